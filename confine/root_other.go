//go:build !linux || pathguard_osroot

package confine

import (
	"errors"
	"io/fs"
	"os"
	"slices"
	"strings"

	"github.com/pathguard/pathguard/internal/resolve"
)

// root delegates to os.Root, which keeps Beneath semantics on every system
// Go supports (safe from Go 1.25.12, the CVE-2026-39822 fix). InRoot,
// NoSymlinks, NoXDev and a forced openat2 backend cannot be honoured
// there, so OpenRoot refuses them with errors.ErrUnsupported.
type root struct {
	name string
	os   *os.Root
}

func openRoot(dir string, o options) (*root, error) {
	if o.mode != 0 || o.flags != 0 || o.resolver == ResolverOpenat2 || o.noSpecial {
		return nil, &fs.PathError{Op: "openat", Path: dir, Err: errors.ErrUnsupported}
	}
	r, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fromOS(err)
	}
	return &root{name: dir, os: r}, nil
}

func newRootFromFile(f *os.File, o options) (*root, error) {
	return nil, &fs.PathError{Op: "dup", Path: f.Name(), Err: errors.ErrUnsupported}
}

func (r *root) close() error       { return r.os.Close() }
func (r *root) resolver() Resolver { return ResolverWalk }
func (r *root) openFile(name string, flag int, perm fs.FileMode) (*os.File, error) {
	return fromOS2(r.os.OpenFile(name, flag, perm))
}

func (r *root) openRoot(name string) (*root, error) {
	c, err := r.os.OpenRoot(name)
	if err != nil {
		return nil, fromOS(err)
	}
	return &root{name: c.Name(), os: c}, nil
}

func (r *root) stat(name string, follow bool) (fs.FileInfo, error) {
	if follow {
		return fromOS2(r.os.Stat(name))
	}
	return fromOS2(r.os.Lstat(name))
}

func (r *root) readDir(name string) ([]fs.DirEntry, error) {
	f, err := r.os.Open(name)
	if err != nil {
		return nil, fromOS(err)
	}
	defer f.Close()
	entries, err := f.ReadDir(-1)
	slices.SortFunc(entries, func(a, b fs.DirEntry) int { return strings.Compare(a.Name(), b.Name()) })
	return entries, fromOS(err)
}

// resolvePath cannot see where links lead through os.Root.
func (r *root) resolvePath(name string) (string, error) {
	return "", &fs.PathError{Op: "resolve", Path: name, Err: errors.ErrUnsupported}
}

// fromOS gives an error from os.Root confine's sentinels: os.Root's escape
// error is an unexported value, which only its text identifies ("path
// escapes from parent", os/file.go), and a Root's callers test for
// ErrEscape. The error's type, Op and names are kept.
func fromOS(err error) error {
	var pe *fs.PathError
	var le *os.LinkError
	switch {
	case errors.As(err, &le) && le.Err != nil && le.Err.Error() == osEscapeText:
		return &os.LinkError{Op: le.Op, Old: le.Old, New: le.New, Err: resolve.ErrEscape}
	case errors.As(err, &pe) && pe.Err != nil && pe.Err.Error() == osEscapeText:
		return &fs.PathError{Op: pe.Op, Path: pe.Path, Err: resolve.ErrEscape}
	}
	return err
}

// fromOS2 is fromOS for a call that returns a value too.
func fromOS2[T any](v T, err error) (T, error) { return v, fromOS(err) }

const osEscapeText = "path escapes from parent"
