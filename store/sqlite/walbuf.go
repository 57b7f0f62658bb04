package sqlite

// #include "walbuf.h"
import "C"

// SQLite writes a WAL frame in two calls, its 24-byte header and its
// page, one pwrite each: a group commit of log-param-10's writes made
// 115 write calls (some 57 frames, 260 KB), log-batch-10's some 570,
// each a system call that copies into the page cache and dirties one or
// two of the file system's blocks (a frame is 4,120 bytes, so most
// straddle two). The writer's thread spent 37 % of its time in the
// kernel under log-param-10, 14 % in pwrite.
//
// walbuf.c is a VFS over SQLite's default one that gathers the writes
// that continue one another in a 64 KiB buffer per WAL file, and writes
// it out: once a commit frame (its header, then its page) is complete,
// which is before SQLite syncs or marks the frames committed in the WAL
// index, where other connections and processes find them, whatever the
// synchronous setting; before the file is read, sized, truncated,
// synced, closed or given a file control; when the next write does not
// continue the buffer or does not fit. So the buffer holds only frames
// of the write transaction under way, which no other connection reads:
// a write that fails fails that transaction, and a crash loses only
// what nobody was told is committed. Database files, journals and
// temporary files are the default VFS's own. TestWALBufferCommitsWhole
// checks every commit against another connection and against a copy of
// the files as a killed process leaves them.
//
// The writer's write calls a commit: log-param-10 115 → 14.5,
// log-batch-10 573 → 127 (what remains is mostly checkpoints, which
// write the database file); its CPU a write 48.7 → 44.7 µs and
// 174 → 146 µs. See DESIGN.md for the requests a second.
//
// Only the store's connections use it (the vfs parameter of their DSN).
var walbufVFS = registerWalbuf()

func registerWalbuf() string {
	// SQLite takes a page cache only before it initializes, which
	// registering a VFS does: the page cache first.
	_ = pcacheInstalled
	if C.mlrun_walbuf_register() != 0 {
		return ""
	}
	return "mlrun-walbuf"
}

// walbufCounts are what walbuf.c has seen in this process: the writes
// it was given, the buffers it wrote out, and the writes it passed on
// as they came (commit headers with nothing before them, writes larger
// than the buffer).
type walbufCounts struct{ writes, flushes, through int64 }

func readWalbufCounts() walbufCounts {
	var w, f, th C.long
	C.mlrun_walbuf_counts(&w, &f, &th)
	return walbufCounts{int64(w), int64(f), int64(th)}
}
