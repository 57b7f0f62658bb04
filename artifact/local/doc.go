// Package local is the artifact Repository on a local folder. Every
// operation goes through os.Root, so a path can never leave the folder:
// not with '..', not through a symlink pointing outside.
package local
