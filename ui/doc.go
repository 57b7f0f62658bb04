// Package ui is mlrun's web UI, served by `mlrun server` at /: the
// experiments list, an experiment's runs table (columns picked from
// params, metrics and tags; sorting; MLflow's search grammar; paging;
// delete and restore; nested runs under their parent), a run's page (info,
// params, metrics, tags, the step's log, an artifact browser with
// previews), metric charts, run comparison (side by side, overlaid
// metrics, parallel coordinates), and the model registry.
//
// Pages are Go html/template with the assets embedded in the binary; the
// only JavaScript is static/app.js (charts, a few conveniences), served by
// mlrun itself, so no Node toolchain and no network are needed. Every
// value a user logged is escaped by html/template; every page that
// changes data is a POST with a CSRF token (a double-submit cookie).
// Metric histories are downsampled on the server with LTTB, so a chart of
// any length stays light.
package ui
