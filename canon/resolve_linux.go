package canon

import (
	"io/fs"
	"path/filepath"

	"golang.org/x/sys/unix"

	"github.com/pathguard/pathguard/internal/resolve"
	"github.com/pathguard/pathguard/internal/sys"
)

// resolveInRoot opens root, resolves unsafePath beneath it in InRoot mode
// and joins the answer to root. The root descriptor lives for this call
// only and is closed on every path.
func resolveInRoot(root, unsafePath string) (string, error) {
	// O_PATH: the root only anchors lookups, it is never read, so no
	// read permission on it is needed. O_CLOEXEC is added by sys, the one
	// place that adds it.
	fd, err := sys.Openat(unix.AT_FDCWD, root, unix.O_PATH|unix.O_DIRECTORY, 0)
	if err != nil {
		return "", &fs.PathError{Op: "resolve", Path: root, Err: err}
	}
	defer sys.Close(fd)
	r, err := resolve.New(fd, resolve.InRoot, 0, resolve.Auto)
	if err != nil {
		return "", &fs.PathError{Op: "resolve", Path: root, Err: err}
	}
	rel, err := r.Resolve(unsafePath)
	if err != nil {
		return "", &fs.PathError{Op: "resolve", Path: unsafePath, Err: err}
	}
	// rel is clean, relative and free of "..", and root has no ".."
	// either (checkRoot), so the lexical join names what was resolved.
	return filepath.Join(root, rel), nil
}
