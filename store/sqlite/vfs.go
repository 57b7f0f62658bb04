package sqlite

// #include "vfs.h"
import "C"

// vfs.c is a VFS over SQLite's default one, for two kinds of file.
//
// WAL files. SQLite writes a WAL frame in two calls, its 24-byte header
// and its page, one pwrite each: a group commit of log-param-10's writes
// made 115 write calls (some 57 frames, 260 KB), log-batch-10's some
// 570, each a system call that copies into the page cache and dirties
// one or two of the file system's blocks (a frame is 4,120 bytes, so
// most straddle two). The writer's thread spent 37 % of its time in the
// kernel under log-param-10, 14 % in pwrite. The VFS gathers the writes
// that continue one another in a 64 KiB buffer per WAL file, and writes
// it out: once a commit frame (its header, then its page) is complete,
// which is before SQLite syncs or marks the frames committed in the WAL
// index, where other connections and processes find them, whatever the
// synchronous setting; before the file is read, sized, truncated,
// synced, closed or given a file control; when the next write does not
// continue the buffer or does not fit. So the buffer holds only frames
// of the write transaction under way, which no other connection reads:
// a write that fails fails that transaction, and a crash loses only
// what nobody was told is committed. TestWALBufferCommitsWhole checks
// every commit against another connection and against a copy of the
// files as a killed process leaves them. The writer's write calls a
// commit: log-param-10 115 → 14.5, log-batch-10 573 → 127 (what remains
// is mostly checkpoints, which write the database file); its CPU a
// write 48.7 → 44.7 µs and 174 → 146 µs.
//
// Sub-journals. A savepoint's undo, SQLite's statement journal, is kept
// in memory up to SQLITE_CONFIG_STMTJRNL_SPILL bytes (set here to 8 MiB,
// at init), in one piece, then moved to a temporary file in one write.
// The unix VFS writes at most 128 KiB − 1 bytes a call (seekAndWriteFd
// masks the length with 0x1ffff), so such a spill came up short
// (SQLITE_FULL) past 128 KiB; this VFS writes it in parts of 64 KiB. So
// every transaction's undo stays in one block of memory up to 8 MiB (a
// group of log-batch-10's needs about 1.1 MB), where `temp_store =
// MEMORY` kept it in 1 KiB pieces (four mallocs and frees a page: 8–10 %
// of the writer's CPU) and the default temporary file took it past
// 64 KiB (two writes a page). The writer's CPU a write: log-param-10
// 46.6–49.2 → 43.4–44.6 µs, log-batch-10 150–154 → 126 µs.
//
// Database files, journals and temporary files are the default VFS's
// own. Only the store's connections use this VFS (the vfs parameter of
// their DSN). See DESIGN.md for the requests a second.
var vfsName = registerVFS()

// stmtSpill is how much of a statement journal SQLite keeps in memory
// (0 if SQLite was initialized before this package and kept its own).
var stmtSpill = func() int {
	_ = vfsName // set as the VFS registers
	return int(C.mlrun_vfs_stmt_spill())
}()

func registerVFS() string {
	// SQLite takes a page cache and a spill size only before it
	// initializes, which registering a VFS does: the page cache first.
	_ = pcacheInstalled
	if C.mlrun_vfs_register() != 0 {
		return ""
	}
	return "mlrun"
}

// vfsCounts are what vfs.c has seen in this process: the writes to WAL
// files, the buffers it wrote out, the sub-journal writes it split, and
// the pages written to WAL files (a frame's page; its header is another
// write).
type vfsCounts struct{ writes, flushes, split, pages int64 }

func readVFSCounts() vfsCounts {
	var w, f, sp, pg C.long
	C.mlrun_vfs_counts(&w, &f, &sp, &pg)
	return vfsCounts{int64(w), int64(f), int64(sp), int64(pg)}
}

// WALPages is how many pages the SQLite stores of this process have
// written to their WAL files. A commit writes each page it changed once
// (a b-tree's leaf, and its parent and siblings when the leaf split or
// was rebalanced; a page again only when a transaction outgrew the page
// cache), so per commit it is what a group of writes costs the
// disk: on the machine of DESIGN.md, 15 pages for ten create-runs, 43
// for ten log-param-10s into ten runs. The count is the process's, not
// s's: a server's, with its one store, is that store's.
func (s *Store) WALPages() int64 { return readVFSCounts().pages }
