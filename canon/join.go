package canon

import (
	"errors"
	"io/fs"
	"path/filepath"
	"slices"

	securejoin "github.com/cyphar/filepath-securejoin"

	"github.com/pathguard/pathguard/internal/resolve"
)

// Join joins unsafePath to root as if root were "/": symlinks met on the
// way are followed, an absolute symlink or name starts again at root, and
// ".." at root stays at root. The result is a clean path that lies
// lexically within root. Components that do not exist are taken as
// ordinary names, so unsafePath need not exist. Join is
// filepath-securejoin's SecureJoin, which follows at most 255 symlinks
// (more is an error matching syscall.ELOOP).
//
// WARNING: the result is a string, and a string is racy by nature. Join
// reads the tree once; anyone who can write inside root can, right after
// Join returns, replace a component of the result with a symlink that
// leads outside root, and the caller who then opens the string follows
// it. No checking of the string can close that window. To act on an
// untrusted path, open it through confine.Root (OpenRoot with the InRoot
// option gives these same semantics), which resolves and opens in one step
// on a held directory descriptor. Join is for display, logs, and programs
// that can only take a path; [Resolve] has the same race but asks the
// kernel.
//
// root is trusted: it must not contain ".." components, whose lexical
// meaning differs from their meaning when a component is a symlink, and it
// should have no symlinks in it. unsafePath is slash-separated. If either
// is empty, holds a NUL byte, is 4096 bytes or longer, or has a component
// longer than 255 bytes, or root has a ".." component, the error matches
// [ErrInvalid]. Errors are of type [*fs.PathError].
func Join(root, unsafePath string) (string, error) {
	if err := checkRoot(root); err != nil {
		return "", &fs.PathError{Op: "join", Path: root, Err: err}
	}
	if err := resolve.Validate(unsafePath); err != nil {
		return "", &fs.PathError{Op: "join", Path: unsafePath, Err: err}
	}
	p, err := securejoin.SecureJoin(root, unsafePath)
	if err != nil {
		// SecureJoin returns errors from Lstat and Readlink, and its own
		// ELOOP, as *fs.PathError on the joined name: keep the cause,
		// name the caller's own path.
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return "", &fs.PathError{Op: "join", Path: unsafePath, Err: err}
	}
	return p, nil
}

// checkRoot refuses a root that is not valid input or has a ".."
// component: "a/l/.." does not lead to "a" when l is a symlink, so the
// string the caller gets back, root joined to a resolved path, would not
// name what was resolved.
func checkRoot(root string) error {
	if err := resolve.Validate(root); err != nil {
		return err
	}
	// ToSlash: on Windows a root may also be separated by backslashes.
	if slices.Contains(Split(filepath.ToSlash(root)), "..") {
		return ErrInvalid
	}
	return nil
}
