//go:build !unix

package main

// ownerOnlyFiles is a no-op where there is no umask; file access there follows the
// directory's ACLs.
func ownerOnlyFiles() {}
