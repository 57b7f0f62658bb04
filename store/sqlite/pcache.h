// See pcache.go.
int mlrun_pcache_install(void);
void mlrun_pcache_counts(long *skipped, long *passed, long *borrows);
void mlrun_pcache_skip(int on);
