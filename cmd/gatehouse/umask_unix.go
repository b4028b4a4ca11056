//go:build unix

package main

import "syscall"

// ownerOnlyFiles makes every file and directory this process creates from now on
// readable by its owner only (umask 077). baton's runner writes the .c1z, its temporary
// files and its working copies with modes of its own (0644); the inventory in them is
// not for other users of the machine.
func ownerOnlyFiles() { syscall.Umask(0o077) }
