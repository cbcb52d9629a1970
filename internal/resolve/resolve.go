// Package resolve is pathguard's one resolution engine: it turns a name
// relative to a held directory fd into an fd, under a Mode (Beneath or
// InRoot) and Flags (NoSymlinks, NoXDev), with two backends that give the
// same answer on every tree that does not change during the call:
//
//   - openat2: one openat2(2) call straight to the caller's final flags,
//     with RESOLVE_BENEATH or RESOLVE_IN_ROOT and RESOLVE_NO_MAGICLINKS
//     always, so the kernel enforces containment (Linux 5.6+);
//   - walk: one openat(O_PATH|O_NOFOLLOW) per component on held fds, with
//     a stack of parent fds so ".." is a pop, readlinkat for links, and
//     every check openat2 makes done again in user space.
//
// Errors returned by this package are bare: errnos or the sentinels in
// errors.go. The exported layers wrap them once in *fs.PathError.
package resolve

import (
	"strings"
)

// Mode says what happens to a name that would leave the root.
type Mode uint8

const (
	// Beneath refuses any escape with ErrEscape, as RESOLVE_BENEATH and
	// os.Root do; absolute names and absolute link targets are escapes.
	Beneath Mode = iota
	// InRoot treats the root as "/": ".." at the root stays there and
	// absolute names and link targets start at the root, as
	// RESOLVE_IN_ROOT and chroot do.
	InRoot
)

func (m Mode) String() string {
	if m == InRoot {
		return "InRoot"
	}
	return "Beneath"
}

// Flags restrict resolution further.
type Flags uint8

const (
	// NoSymlinks refuses every symlink met on the way with ErrSymlink. A
	// final link that the operation does not follow (Lstat, Readlink,
	// Remove...) is still allowed.
	NoSymlinks Flags = 1 << iota
	// NoXDev refuses crossing a mount point, bind mounts included, with
	// ErrCrossDevice.
	NoXDev
)

// Backend names a resolution backend.
type Backend uint8

const (
	// Auto picks openat2 when the kernel allows it and walk otherwise.
	Auto Backend = iota
	// Openat2 is the kernel's own resolution (Linux 5.6+).
	Openat2
	// Walk is the user-space walk on held fds.
	Walk
)

const (
	// maxPath is PATH_MAX, which counts the terminating NUL: a name of
	// 4096 bytes or more can never be passed to the kernel.
	maxPath = 4096
	// maxName is NAME_MAX, the longest single component.
	maxName = 255
	// maxHops is the kernel's MAXSYMLINKS: the 41st link in one
	// resolution is ELOOP, in both backends.
	maxHops = 40
	// maxHeld bounds the ancestor fds the walk keeps open, so a long name
	// cannot exhaust RLIMIT_NOFILE; a ".." back to a released one reopens
	// it from its child and checks it is the same directory.
	maxHeld = 256
	// maxRetries bounds the retries of a lookup that lost a race it can
	// detect (EAGAIN or EXDEV from openat2 under a concurrent rename, or
	// a reopened entry that changed).
	maxRetries = 128
)

// Validate reports whether name is acceptable input: not empty, no NUL
// byte, shorter than PATH_MAX and no component longer than NAME_MAX. It
// returns ErrInvalid otherwise. It is purely lexical.
func Validate(name string) error {
	if name == "" || len(name) >= maxPath || strings.IndexByte(name, 0) >= 0 {
		return ErrInvalid
	}
	for name != "" {
		i := strings.IndexByte(name, '/')
		if i < 0 {
			i = len(name)
		}
		if i > maxName {
			return ErrInvalid
		}
		name = name[min(i+1, len(name)):]
	}
	return nil
}

// hasTrailingSlash reports whether name ends in "/" after at least one
// other byte: the final component must then be a directory, reached by
// following it if it is a link.
func hasTrailingSlash(name string) bool {
	return len(name) > 1 && name[len(name)-1] == '/'
}
