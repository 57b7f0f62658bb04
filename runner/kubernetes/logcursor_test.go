package kubernetes

import (
	"errors"
	"io"
	"strings"
	"testing"
)

// brokenReader yields its text, then fails as a broken connection does.
type brokenReader struct{ r io.Reader }

func (b brokenReader) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if errors.Is(err, io.EOF) {
		return n, errors.New("connection reset")
	}
	return n, err
}

// TestLogCursorBrokenStream: a line cut short by a broken stream (or one
// closed for bringing nothing for streamIdle) is not copied, and comes
// whole from the stream opened again.
func TestLogCursorBrokenStream(t *testing.T) {
	var cur logCursor
	var out strings.Builder
	first := "2026-12-07T07:22:53.1Z to-out\n2026-12-07T07:22:53.1Z to-err\n2026-12-07T07:23:01.4Z lat"
	if err := cur.copy(&out, brokenReader{strings.NewReader(first)}); err == nil {
		t.Fatal("a broken stream copied without an error")
	}
	if out.String() != "to-out\nto-err\n" {
		t.Fatalf("after a broken stream: %q", out.String())
	}
	again := "2026-12-07T07:22:53.1Z to-out\n2026-12-07T07:22:53.1Z to-err\n2026-12-07T07:23:01.4Z later\n"
	if err := cur.copy(&out, strings.NewReader(again)); err != nil {
		t.Fatal(err)
	}
	if out.String() != "to-out\nto-err\nlater\n" {
		t.Fatalf("after the stream opened again: %q", out.String())
	}
}
