// Package procfs is pathguard's one handle on procfs: every use of /proc
// in the product (reading a descriptor's path or acting on it through
// /proc/self/fd/N, reading a sysctl) goes through it.
//
// The handle is opened once per process and verified: it must be procfs
// (PROC_SUPER_MAGIC) and its root (inode 1). Where the kernel allows it,
// it is a private instance nobody can mount over (see sys.PrivateProc);
// otherwise it is /proc, and every lookup below it refuses to cross a
// mount (RESOLVE_NO_XDEV, or the same mount id on every step without
// openat2) and to follow a magic link, so a file or a fake procfs mounted
// over /proc/self/fd or /proc/self cannot answer in its place.
package procfs
