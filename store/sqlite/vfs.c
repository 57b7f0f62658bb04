// A VFS over SQLite's default one that gathers a transaction's writes to
// its WAL file into one buffer and writes them out at its commit, and
// writes a statement journal's spill in parts. See vfs.go.

#include <stdlib.h>
#include <string.h>

#include "vfs.h"

// The sqlite3_vfs and sqlite3_io_methods ABIs (version 3), as sqlite3.h
// declares them. mattn/go-sqlite3 does not put its header on other
// packages' include path.
typedef long long sqlite3_int64;
typedef struct sqlite3_file sqlite3_file;
typedef struct sqlite3_io_methods sqlite3_io_methods;
struct sqlite3_file {
	const sqlite3_io_methods *pMethods;
};
struct sqlite3_io_methods {
	int iVersion;
	int (*xClose)(sqlite3_file *);
	int (*xRead)(sqlite3_file *, void *, int iAmt, sqlite3_int64 iOfst);
	int (*xWrite)(sqlite3_file *, const void *, int iAmt, sqlite3_int64 iOfst);
	int (*xTruncate)(sqlite3_file *, sqlite3_int64 size);
	int (*xSync)(sqlite3_file *, int flags);
	int (*xFileSize)(sqlite3_file *, sqlite3_int64 *pSize);
	int (*xLock)(sqlite3_file *, int);
	int (*xUnlock)(sqlite3_file *, int);
	int (*xCheckReservedLock)(sqlite3_file *, int *pResOut);
	int (*xFileControl)(sqlite3_file *, int op, void *pArg);
	int (*xSectorSize)(sqlite3_file *);
	int (*xDeviceCharacteristics)(sqlite3_file *);
	int (*xShmMap)(sqlite3_file *, int iPg, int pgsz, int, void volatile **);
	int (*xShmLock)(sqlite3_file *, int offset, int n, int flags);
	void (*xShmBarrier)(sqlite3_file *);
	int (*xShmUnmap)(sqlite3_file *, int deleteFlag);
	int (*xFetch)(sqlite3_file *, sqlite3_int64 iOfst, int iAmt, void **pp);
	int (*xUnfetch)(sqlite3_file *, sqlite3_int64 iOfst, void *p);
};
typedef struct sqlite3_vfs sqlite3_vfs;
typedef void (*sqlite3_syscall_ptr)(void);
struct sqlite3_vfs {
	int iVersion;
	int szOsFile;
	int mxPathname;
	sqlite3_vfs *pNext;
	const char *zName;
	void *pAppData;
	int (*xOpen)(sqlite3_vfs *, const char *zName, sqlite3_file *, int flags, int *pOutFlags);
	int (*xDelete)(sqlite3_vfs *, const char *zName, int syncDir);
	int (*xAccess)(sqlite3_vfs *, const char *zName, int flags, int *pResOut);
	int (*xFullPathname)(sqlite3_vfs *, const char *zName, int nOut, char *zOut);
	void *(*xDlOpen)(sqlite3_vfs *, const char *zFilename);
	void (*xDlError)(sqlite3_vfs *, int nByte, char *zErrMsg);
	void (*(*xDlSym)(sqlite3_vfs *, void *, const char *zSymbol))(void);
	void (*xDlClose)(sqlite3_vfs *, void *);
	int (*xRandomness)(sqlite3_vfs *, int nByte, char *zOut);
	int (*xSleep)(sqlite3_vfs *, int microseconds);
	int (*xCurrentTime)(sqlite3_vfs *, double *);
	int (*xGetLastError)(sqlite3_vfs *, int, char *);
	int (*xCurrentTimeInt64)(sqlite3_vfs *, sqlite3_int64 *);
	int (*xSetSystemCall)(sqlite3_vfs *, const char *zName, sqlite3_syscall_ptr);
	sqlite3_syscall_ptr (*xGetSystemCall)(sqlite3_vfs *, const char *zName);
	const char *(*xNextSystemCall)(sqlite3_vfs *, const char *zName);
};

extern sqlite3_vfs *sqlite3_vfs_find(const char *zVfsName);
extern int sqlite3_vfs_register(sqlite3_vfs *, int makeDflt);
extern int sqlite3_initialize(void);
extern int sqlite3_config(int, ...);

#define SQLITE_OK 0
#define SQLITE_OPEN_WAL 0x00080000
#define SQLITE_OPEN_SUBJOURNAL 0x00002000
#define SQLITE_CONFIG_STMTJRNL_SPILL 26

// How much of a statement journal (a savepoint's undo) SQLite keeps in
// memory, in one piece, before it moves it to a temporary file (its
// default: 64 KiB). See vfs.go.
#define STMT_SPILL (8 << 20)

// The buffer's size, and the largest write passed on. The unix VFS
// writes at most 128 KiB - 1 bytes in one call (seekAndWriteFd masks the
// length with 0x1ffff), so a larger write must go in parts; 64 KiB is 16
// frames of 4 KiB pages, and already a sixteenth of the calls.
#define WALBUF_CAP (1 << 16)

// A WAL frame's header; its bytes 4-7 are non-zero in a commit frame's.
#define FRAME_HDRSIZE 24

typedef struct wrapped_file {
	sqlite3_file base;
	int gather;         // a WAL file's writes are gathered; a sub-journal's only split
	sqlite3_file *real; // the default VFS's file, after this struct
	sqlite3_int64 off;  // the file offset of buf[0]
	int n;              // bytes in buf
	int flush_next;     // write out after the next write: the commit frame's page
	char *buf;          // WALBUF_CAP bytes, allocated at the first write
} wrapped_file;

static sqlite3_vfs vfs;
static sqlite3_vfs *base;
static volatile long nwrites, nflushes, nsplit, npages;
static int spill_set;

static int wb_flush(wrapped_file *p) {
	if (p->n == 0) {
		return SQLITE_OK;
	}
	int rc = p->real->pMethods->xWrite(p->real, p->buf, p->n, p->off);
	p->n = 0;
	__atomic_add_fetch(&nflushes, 1, __ATOMIC_RELAXED);
	return rc;
}

// WRITE_OUT_OR_RETURN writes out p's buffer before the default VFS's
// method runs, and returns from the caller if that write fails.
#define WRITE_OUT_OR_RETURN(p) \
	do { \
		int rc_ = wb_flush(p); \
		if (rc_ != SQLITE_OK) { \
			return rc_; \
		} \
	} while (0)

static int wb_close(sqlite3_file *f) {
	wrapped_file *p = (wrapped_file *)f;
	int rc = wb_flush(p);
	int rc2 = p->real->pMethods->xClose(p->real);
	free(p->buf);
	p->buf = NULL;
	return rc != SQLITE_OK ? rc : rc2;
}

static int wb_read(sqlite3_file *f, void *b, int amt, sqlite3_int64 off) {
	wrapped_file *p = (wrapped_file *)f;
	WRITE_OUT_OR_RETURN(p);
	return p->real->pMethods->xRead(p->real, b, amt, off);
}

// is_commit_header reports whether a write is a commit frame's header.
static int is_commit_header(const unsigned char *b, int amt) {
	return amt == FRAME_HDRSIZE && (b[4] | b[5] | b[6] | b[7]) != 0;
}

// wb_write gathers the writes that continue the buffer. A commit frame's
// header followed by its page ends a transaction: the buffer is written
// out after the page, so that the frames are in the file before SQLite
// marks them committed in the WAL index, whether or not a sync follows
// (synchronous=NORMAL syncs no commit). A commit header that starts
// nothing buffered (SQLite rewriting checksums in place, which writes no
// page after it, or a transaction's only frame) is written at once.
static int wb_write(sqlite3_file *f, const void *b, int amt, sqlite3_int64 off) {
	wrapped_file *p = (wrapped_file *)f;
	int rc;
	if (!p->gather) {
		// A sub-journal's spill: SQLite writes what it kept in memory
		// in one call.
		if (amt > WALBUF_CAP) {
			__atomic_add_fetch(&nsplit, 1, __ATOMIC_RELAXED);
		}
		for (int done = 0; done < amt; done += WALBUF_CAP) {
			int k = amt - done < WALBUF_CAP ? amt - done : WALBUF_CAP;
			rc = p->real->pMethods->xWrite(p->real, (const char *)b + done, k, off + done);
			if (rc != SQLITE_OK) {
				return rc;
			}
		}
		return SQLITE_OK;
	}
	__atomic_add_fetch(&nwrites, 1, __ATOMIC_RELAXED);
	// A frame's page (its header, and the file's, are shorter than the
	// smallest page).
	if (amt >= 512) {
		__atomic_add_fetch(&npages, 1, __ATOMIC_RELAXED);
	}
	if (p->n > 0 && (off != p->off + p->n || p->n + amt > WALBUF_CAP)) {
		if ((rc = wb_flush(p)) != SQLITE_OK) {
			return rc;
		}
	}
	int commit = is_commit_header(b, amt);
	if (p->buf == NULL && amt <= WALBUF_CAP) {
		p->buf = malloc(WALBUF_CAP);
	}
	if (amt > WALBUF_CAP || p->buf == NULL || (commit && p->n == 0)) {
		rc = p->real->pMethods->xWrite(p->real, b, amt, off);
	} else {
		if (p->n == 0) {
			p->off = off;
		}
		memcpy(p->buf + p->n, b, amt);
		p->n += amt;
		rc = SQLITE_OK;
	}
	if (rc == SQLITE_OK && p->flush_next) {
		rc = wb_flush(p);
	}
	p->flush_next = commit;
	return rc;
}

static int wb_truncate(sqlite3_file *f, sqlite3_int64 size) {
	wrapped_file *p = (wrapped_file *)f;
	WRITE_OUT_OR_RETURN(p);
	return p->real->pMethods->xTruncate(p->real, size);
}

static int wb_sync(sqlite3_file *f, int flags) {
	wrapped_file *p = (wrapped_file *)f;
	WRITE_OUT_OR_RETURN(p);
	return p->real->pMethods->xSync(p->real, flags);
}

static int wb_filesize(sqlite3_file *f, sqlite3_int64 *size) {
	wrapped_file *p = (wrapped_file *)f;
	WRITE_OUT_OR_RETURN(p);
	return p->real->pMethods->xFileSize(p->real, size);
}

static int wb_lock(sqlite3_file *f, int l) {
	wrapped_file *p = (wrapped_file *)f;
	return p->real->pMethods->xLock(p->real, l);
}

static int wb_unlock(sqlite3_file *f, int l) {
	wrapped_file *p = (wrapped_file *)f;
	return p->real->pMethods->xUnlock(p->real, l);
}

static int wb_reserved(sqlite3_file *f, int *out) {
	wrapped_file *p = (wrapped_file *)f;
	return p->real->pMethods->xCheckReservedLock(p->real, out);
}

static int wb_fcntl(sqlite3_file *f, int op, void *arg) {
	wrapped_file *p = (wrapped_file *)f;
	WRITE_OUT_OR_RETURN(p);
	return p->real->pMethods->xFileControl(p->real, op, arg);
}

static int wb_sectorsize(sqlite3_file *f) {
	wrapped_file *p = (wrapped_file *)f;
	return p->real->pMethods->xSectorSize(p->real);
}

static int wb_devchar(sqlite3_file *f) {
	wrapped_file *p = (wrapped_file *)f;
	return p->real->pMethods->xDeviceCharacteristics(p->real);
}

static int wb_shmmap(sqlite3_file *f, int pg, int sz, int ext, void volatile **pp) {
	wrapped_file *p = (wrapped_file *)f;
	return p->real->pMethods->xShmMap(p->real, pg, sz, ext, pp);
}

static int wb_shmlock(sqlite3_file *f, int off, int n, int flags) {
	wrapped_file *p = (wrapped_file *)f;
	return p->real->pMethods->xShmLock(p->real, off, n, flags);
}

static void wb_shmbarrier(sqlite3_file *f) {
	wrapped_file *p = (wrapped_file *)f;
	p->real->pMethods->xShmBarrier(p->real);
}

static int wb_shmunmap(sqlite3_file *f, int del) {
	wrapped_file *p = (wrapped_file *)f;
	return p->real->pMethods->xShmUnmap(p->real, del);
}

static int wb_fetch(sqlite3_file *f, sqlite3_int64 off, int amt, void **pp) {
	wrapped_file *p = (wrapped_file *)f;
	int rc = wb_flush(p);
	if (rc != SQLITE_OK) {
		*pp = NULL;
		return rc;
	}
	return p->real->pMethods->xFetch(p->real, off, amt, pp);
}

static int wb_unfetch(sqlite3_file *f, sqlite3_int64 off, void *ptr) {
	wrapped_file *p = (wrapped_file *)f;
	return p->real->pMethods->xUnfetch(p->real, off, ptr);
}

static const sqlite3_io_methods wb_methods = {
	3, wb_close, wb_read, wb_write, wb_truncate, wb_sync, wb_filesize,
	wb_lock, wb_unlock, wb_reserved, wb_fcntl, wb_sectorsize, wb_devchar,
	wb_shmmap, wb_shmlock, wb_shmbarrier, wb_shmunmap, wb_fetch, wb_unfetch,
};

static int wb_open(sqlite3_vfs *v, const char *name, sqlite3_file *f, int flags, int *out) {
	(void)v;
	if ((flags & (SQLITE_OPEN_WAL | SQLITE_OPEN_SUBJOURNAL)) == 0) {
		// Neither a WAL nor a sub-journal: the default VFS's own file,
		// in place (this VFS's szOsFile is larger than the default's).
		return base->xOpen(base, name, f, flags, out);
	}
	wrapped_file *p = (wrapped_file *)f;
	memset(p, 0, sizeof(*p));
	p->real = (sqlite3_file *)(p + 1);
	int rc = base->xOpen(base, name, p->real, flags, out);
	if (rc != SQLITE_OK) {
		p->base.pMethods = NULL;
		return rc;
	}
	p->base.pMethods = &wb_methods;
	p->gather = (flags & SQLITE_OPEN_WAL) != 0;
	return SQLITE_OK;
}

int mlrun_vfs_register(void) {
	// Before SQLite initializes, or not at all (then SQLite's 64 KiB).
	spill_set = sqlite3_config(SQLITE_CONFIG_STMTJRNL_SPILL, STMT_SPILL) == SQLITE_OK;
	int rc = sqlite3_initialize();
	if (rc != SQLITE_OK) {
		return rc;
	}
	base = sqlite3_vfs_find(NULL);
	if (base == NULL) {
		return 1;
	}
	vfs = *base;
	vfs.pNext = NULL;
	vfs.zName = "mlrun";
	vfs.szOsFile = (int)sizeof(wrapped_file) + base->szOsFile;
	vfs.xOpen = wb_open;
	return sqlite3_vfs_register(&vfs, 0);
}

void mlrun_vfs_counts(long *writes, long *flushes, long *split, long *pages) {
	*writes = __atomic_load_n(&nwrites, __ATOMIC_RELAXED);
	*flushes = __atomic_load_n(&nflushes, __ATOMIC_RELAXED);
	*split = __atomic_load_n(&nsplit, __ATOMIC_RELAXED);
	*pages = __atomic_load_n(&npages, __ATOMIC_RELAXED);
}

int mlrun_vfs_stmt_spill(void) {
	return spill_set ? STMT_SPILL : 0;
}
