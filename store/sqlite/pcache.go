package sqlite

// #include "pcache.h"
import "C"

// SQLite's page cache (pcache1) keeps the largest page number it has
// held, and when a transaction ends the pager truncates the cache above
// the database's size; below that number, nothing to do. But when a
// b-tree page splits, balance_nonroot swaps two pages' numbers through
// the pending-byte page's (page 262,145 at 4 KiB pages, the page at 1 GiB
// no database uses), and that number stays the largest. Every commit
// that split a page then truncates a cache that holds nothing to drop,
// and pcache1 does it by scanning its whole hash table: with the
// writer's 64 MiB cache, 16,384 buckets and every cached page, at every
// such commit (perf, log-param-10: 8.9 % of the server's CPU, on the
// writer's thread). pcache.c wraps SQLite's own cache and skips a
// truncation with no page to drop; everything else is SQLite's.
//
// It is installed at init, before any connection is opened (SQLite
// takes a page cache only before it initializes); if SQLite was already
// initialized, SQLite's own cache stays and pcacheInstalled is false.
var pcacheInstalled = C.mlrun_pcache_install() == 0

// pcacheCounts are what the wrapper has seen in this process: the
// truncations it skipped, those it passed to SQLite's cache, and the
// pages moved to the pending-byte page's number.
type pcacheCounts struct{ skipped, passed, borrows int64 }

func readPcacheCounts() pcacheCounts {
	var s, p, b C.long
	C.mlrun_pcache_counts(&s, &p, &b)
	return pcacheCounts{int64(s), int64(p), int64(b)}
}

// setPcacheSkip turns the skipping off (every truncation then goes to
// SQLite's cache, as without the wrapper) or back on, for benchmarks.
func setPcacheSkip(on bool) {
	v := C.int(0)
	if on {
		v = 1
	}
	C.mlrun_pcache_skip(v)
}
