// See vfs.go.
int mlrun_vfs_register(void);
void mlrun_vfs_counts(long *writes, long *flushes, long *split, long *pages);
int mlrun_vfs_stmt_spill(void);
