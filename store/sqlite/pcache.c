// A page cache over SQLite's own that skips a pointless full scan at each
// commit. See pcache.go.

#include <stdlib.h>

#include "pcache.h"

// The sqlite3_pcache_methods2 ABI, as sqlite3.h declares it (stable since
// SQLite 3.7.10). mattn/go-sqlite3 compiles SQLite into the binary but
// does not put its header on other packages' include path.
typedef struct sqlite3_pcache sqlite3_pcache;
typedef struct sqlite3_pcache_page {
	void *pBuf;
	void *pExtra;
} sqlite3_pcache_page;
typedef struct sqlite3_pcache_methods2 {
	int iVersion;
	void *pArg;
	int (*xInit)(void *);
	void (*xShutdown)(void *);
	sqlite3_pcache *(*xCreate)(int szPage, int szExtra, int bPurgeable);
	void (*xCachesize)(sqlite3_pcache *, int nCachesize);
	int (*xPagecount)(sqlite3_pcache *);
	sqlite3_pcache_page *(*xFetch)(sqlite3_pcache *, unsigned key, int createFlag);
	void (*xUnpin)(sqlite3_pcache *, sqlite3_pcache_page *, int discard);
	void (*xRekey)(sqlite3_pcache *, sqlite3_pcache_page *, unsigned oldKey, unsigned newKey);
	void (*xTruncate)(sqlite3_pcache *, unsigned iLimit);
	void (*xDestroy)(sqlite3_pcache *);
	void (*xShrink)(sqlite3_pcache *);
} sqlite3_pcache_methods2;

extern int sqlite3_config(int, ...);
#define SQLITE_CONFIG_PCACHE2 18
#define SQLITE_CONFIG_GETPCACHE2 19

// SQLite's PENDING_BYTE (sqlite3PendingByte, changed only by its tests).
#define PENDING_BYTE 0x40000000

static sqlite3_pcache_methods2 base;
static volatile long skipped, passed, borrows;
static volatile int skipEmpty = 1; // 0: pass every truncation (benchmarks)

// cache wraps one of base's caches: maxKey is the largest page number it
// may hold, not counting the one balance_nonroot borrows (the pending-byte
// page's, at this page size); onBorrowed is set while a page may be
// there.
typedef struct cache {
	sqlite3_pcache *inner;
	unsigned maxKey;
	unsigned borrowed;
	int onBorrowed;
} cache;

static sqlite3_pcache *xCreate(int szPage, int szExtra, int bPurgeable) {
	cache *c = malloc(sizeof *c);
	if (!c) return 0;
	c->inner = base.xCreate(szPage, szExtra, bPurgeable);
	if (!c->inner) {
		free(c);
		return 0;
	}
	c->maxKey = 0;
	c->onBorrowed = 0;
	c->borrowed = szPage > 0 ? (unsigned)(PENDING_BYTE / szPage) + 1 : 0;
	return (sqlite3_pcache *)c;
}

static void xCachesize(sqlite3_pcache *p, int n) { base.xCachesize(((cache *)p)->inner, n); }

static int xPagecount(sqlite3_pcache *p) { return base.xPagecount(((cache *)p)->inner); }

static sqlite3_pcache_page *xFetch(sqlite3_pcache *p, unsigned key, int createFlag) {
	cache *c = (cache *)p;
	sqlite3_pcache_page *pg = base.xFetch(c->inner, key, createFlag);
	if (pg && key > c->maxKey) c->maxKey = key;
	return pg;
}

static void xUnpin(sqlite3_pcache *p, sqlite3_pcache_page *pg, int discard) {
	base.xUnpin(((cache *)p)->inner, pg, discard);
}

static void xRekey(sqlite3_pcache *p, sqlite3_pcache_page *pg, unsigned oldKey, unsigned newKey) {
	cache *c = (cache *)p;
	base.xRekey(c->inner, pg, oldKey, newKey);
	// balance_nonroot swaps two pages' numbers through the pending-byte
	// page's, a page no database uses, and moves the page off it at
	// once: counted in maxKey, it would stay there, and every commit
	// after would truncate the cache above the database's size, which
	// base (pcache1) does by scanning its whole hash table.
	if (oldKey == c->borrowed) c->onBorrowed = 0;
	if (newKey == c->borrowed) {
		c->onBorrowed = 1;
		__atomic_add_fetch(&borrows, 1, __ATOMIC_RELAXED);
	} else if (newKey > c->maxKey) c->maxKey = newKey;
}

static void xTruncate(sqlite3_pcache *p, unsigned limit) {
	cache *c = (cache *)p;
	if (skipEmpty && limit > c->maxKey && !c->onBorrowed) {
		__atomic_add_fetch(&skipped, 1, __ATOMIC_RELAXED);
		return; // no page numbered limit or more: nothing to drop
	}
	__atomic_add_fetch(&passed, 1, __ATOMIC_RELAXED);
	base.xTruncate(c->inner, limit);
	if (limit <= c->maxKey) c->maxKey = limit > 0 ? limit - 1 : 0;
	if (limit <= c->borrowed) c->onBorrowed = 0;
}

static void xDestroy(sqlite3_pcache *p) {
	cache *c = (cache *)p;
	base.xDestroy(c->inner);
	free(c);
}

static void xShrink(sqlite3_pcache *p) { base.xShrink(((cache *)p)->inner); }

int mlrun_pcache_install(void) {
	int rc = sqlite3_config(SQLITE_CONFIG_GETPCACHE2, &base);
	if (rc != 0) return rc;
	static sqlite3_pcache_methods2 m;
	m = base;
	m.xCreate = xCreate;
	m.xCachesize = xCachesize;
	m.xPagecount = xPagecount;
	m.xFetch = xFetch;
	m.xUnpin = xUnpin;
	m.xRekey = xRekey;
	m.xTruncate = xTruncate;
	m.xDestroy = xDestroy;
	m.xShrink = xShrink;
	return sqlite3_config(SQLITE_CONFIG_PCACHE2, &m);
}

void mlrun_pcache_counts(long *s, long *p, long *b) {
	*s = __atomic_load_n(&skipped, __ATOMIC_RELAXED);
	*p = __atomic_load_n(&passed, __ATOMIC_RELAXED);
	*b = __atomic_load_n(&borrows, __ATOMIC_RELAXED);
}

void mlrun_pcache_skip(int on) { __atomic_store_n(&skipEmpty, on, __ATOMIC_RELAXED); }
