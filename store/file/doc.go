// Package file reads MLflow's file store (an mlruns/ folder, see
// FORMAT.md) into a Snapshot: experiments with their runs (params, tags,
// every metric point) and the registry's models, versions, tags and
// aliases. mlrun does not track into file stores (MLflow itself refuses
// them since 3.13); `mlrun db import-filestore` copies a Snapshot into a
// SQLite database, keeping every id and timestamp.
package file
