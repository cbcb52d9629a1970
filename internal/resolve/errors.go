package resolve

import (
	"io/fs"
	"syscall"
)

// sentinel is an error value that also matches a set of other errors
// (an errno, an io/fs error) under errors.Is, so a caller can test for
// either the precise pathguard condition or the generic one.
type sentinel struct {
	msg   string
	alike []error
}

func (e *sentinel) Error() string { return e.msg }

// Is reports whether target is one of the errors e stands for. It is
// called by errors.Is after the identity comparison has failed.
func (e *sentinel) Is(target error) bool {
	for _, a := range e.alike {
		if target == a {
			return true
		}
	}
	return false
}

var (
	// ErrEscape means that resolving a name would leave the root, through
	// "..", an absolute name or a symlink. It matches syscall.EXDEV (what
	// openat2 RESOLVE_BENEATH returns) but never ErrCrossDevice.
	ErrEscape error = &sentinel{msg: "path escapes from the root", alike: []error{syscall.EXDEV}}

	// ErrInvalid means the name itself is unusable: empty, holding a NUL
	// byte, 4096 bytes or longer (PATH_MAX counts the NUL), with a
	// component longer than 255 bytes (NAME_MAX), or a mode with bits
	// outside 0o777. It matches fs.ErrInvalid and syscall.EINVAL.
	ErrInvalid error = &sentinel{msg: "invalid path name", alike: []error{fs.ErrInvalid, syscall.EINVAL}}

	// ErrSymlink means a symlink was met where the policy refuses one
	// (NoSymlinks, or a secret's name that is already a link). It
	// matches syscall.ELOOP, as RESOLVE_NO_SYMLINKS does.
	ErrSymlink error = &sentinel{msg: "symlink not allowed", alike: []error{syscall.ELOOP}}

	// ErrCrossDevice means resolution would cross a mount point under
	// NoXDev. It matches syscall.EXDEV but never ErrEscape.
	ErrCrossDevice error = &sentinel{msg: "path crosses a mount point", alike: []error{syscall.EXDEV}}

	// ErrRetry is returned when the kernel kept asking for a retry
	// (EAGAIN, or EXDEV under a concurrent rename in InRoot mode) more
	// times than the bound allows. The call may simply be repeated.
	ErrRetry error = &sentinel{msg: "resolution raced with concurrent renames; the call may be retried", alike: []error{syscall.EAGAIN}}
)
