// See walbuf.go.
int mlrun_walbuf_register(void);
void mlrun_walbuf_counts(long *writes, long *flushes, long *through);
