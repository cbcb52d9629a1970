//go:build linux && !pathguard_osroot

package confine

// RootFD returns the directory descriptor r holds, so tests can ask the
// kernel itself (openat2 RESOLVE_IN_ROOT) about the very same directory.
// The descriptor stays owned by r.
func RootFD(r *Root) int { return r.r.fd }

// ReadAllSized reads f as ReadFile does, with the size f claims to have
// replaced by claimed: a sparse file can claim up to 2^63-1 bytes.
var ReadAllSized = readAllSized
