package project

import (
	"errors"
	"fmt"
	"io"
	"testing"
)

// TestClosedEarly pins the go-git v5 errors a fetch is retried on (the
// texts of plumbing/transport/internal/common.uploadPack) and that no
// other error is retried.
func TestClosedEarly(t *testing.T) {
	for err, want := range map[error]bool{
		nil:                                      false,
		fmt.Errorf("closing input: %s", io.EOF):  true,
		fmt.Errorf("closing writer: %s", io.EOF): true,
		errors.New("authentication required"):    false,
		errors.New("unexpected EOF"):             false,
		fmt.Errorf("closing input: %s", errors.New("broken pipe")): false,
	} {
		if got := closedEarly(err); got != want {
			t.Errorf("closedEarly(%v) = %v, want %v", err, got, want)
		}
	}
}
