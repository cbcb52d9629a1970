//go:build linux

package confine

// RootFD returns the directory descriptor r holds, so tests can ask the
// kernel itself (openat2 RESOLVE_IN_ROOT) about the very same directory.
// The descriptor stays owned by r.
func RootFD(r *Root) int { return r.r.fd }
