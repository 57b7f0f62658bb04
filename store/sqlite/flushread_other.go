//go:build !linux

package sqlite

import (
	"fmt"
	"os"
)

// flushReader is Linux's (see flushread_linux.go); elsewhere there is
// none.
type flushReader struct{}

const readBeforeFlushEnv = "MLRUN_SQLITE_READ_BEFORE_FLUSH"

func openFlushReader(string) (*flushReader, error) {
	switch mode := os.Getenv(readBeforeFlushEnv); mode {
	case "", "auto", "on", "off":
		return nil, nil
	default:
		return nil, fmt.Errorf("%s=%q: want auto, on or off", readBeforeFlushEnv, mode)
	}
}

func (f *flushReader) Kick()  {}
func (f *flushReader) Close() {}
