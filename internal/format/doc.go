// Package format holds the few formatting rules the CLI and the UI share.
package format
