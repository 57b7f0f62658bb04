//go:build !linux

package sqlite

import (
	"fmt"
	"os"
)

// FlushReader is Linux's (see flushread_linux.go); elsewhere there is
// none: OpenFlushReader returns nil, whose methods do nothing.
type FlushReader struct{}

const readBeforeFlushEnv = "MLRUN_SQLITE_READ_BEFORE_FLUSH"

func OpenFlushReader(string) (*FlushReader, error) {
	switch mode := os.Getenv(readBeforeFlushEnv); mode {
	case "", "auto", "on", "off":
		return nil, nil
	default:
		return nil, fmt.Errorf("%s=%q: want auto, on or off", readBeforeFlushEnv, mode)
	}
}

func (f *FlushReader) Kick()  {}
func (f *FlushReader) Close() {}
