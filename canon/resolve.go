package canon

import (
	"io/fs"

	"github.com/pathguard/pathguard/internal/resolve"
)

// Resolve returns where unsafePath really leads inside root, as the kernel
// sees it, with root treated as "/": symlinks are followed, an absolute
// name or symlink target starts again at root, and ".." at root stays at
// root (the kernel's RESOLVE_IN_ROOT, or pathguard's walk on held
// descriptors where openat2 is missing). The result is root joined with a
// clean path built from the directory entries the resolution went
// through, so it lies lexically within root and has no symlink in it
// below root. Every component must exist: a missing one, a dangling
// symlink included, is an error matching fs.ErrNotExist. At most 40
// symlinks are followed (the kernel's MAXSYMLINKS), and /proc magic links
// are refused; both errors match syscall.ELOOP. A trailing slash requires
// a directory. When entries inside root are renamed concurrently, the
// kernel may keep asking for a retry; past a bound, Resolve gives up with
// an error matching syscall.EAGAIN, and the call may simply be repeated.
//
// Like [Join], Resolve returns a string, and the string is racy: the
// answer is true when Resolve returns, and anyone who can write inside
// root can swap a component for an outward symlink before the caller opens
// it. To act on an untrusted path, open it through confine.Root, whose
// Resolve method gives this same answer relative to a held root.
//
// root is trusted and must not contain ".." components (see [Join]).
// Errors are of type [*fs.PathError] with Op "resolve" and Path the name
// at fault: root when it is invalid or cannot be opened, unsafePath
// otherwise. Invalid input (see [Clean]) matches [ErrInvalid]. On systems
// other than Linux, Resolve returns an error matching
// [errors.ErrUnsupported].
func Resolve(root, unsafePath string) (string, error) {
	if err := checkRoot(root); err != nil {
		return "", &fs.PathError{Op: "resolve", Path: root, Err: err}
	}
	if err := resolve.Validate(unsafePath); err != nil {
		return "", &fs.PathError{Op: "resolve", Path: unsafePath, Err: err}
	}
	return resolveInRoot(root, unsafePath)
}
