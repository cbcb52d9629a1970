package confine

import (
	"io/fs"
	"os"

	"github.com/pathguard/pathguard/internal/resolve"
)

var (
	// ErrEscape means a name would leave the root, through "..", an
	// absolute name or a symlink. It is canon.ErrEscape (the same value)
	// and matches syscall.EXDEV, never ErrCrossDevice.
	ErrEscape = resolve.ErrEscape

	// ErrSymlink means a symlink was met where the Root refuses one
	// (NoSymlinks). It matches syscall.ELOOP.
	ErrSymlink = resolve.ErrSymlink

	// ErrCrossDevice means resolution would cross a mount point under
	// NoXDev. It matches syscall.EXDEV, never ErrEscape.
	ErrCrossDevice = resolve.ErrCrossDevice
)

// Resolver chooses how a Root resolves names.
type Resolver int

const (
	// ResolverAuto uses openat2 where the kernel allows it (Linux 5.6+)
	// and the walk otherwise. The choice is made once, at OpenRoot, and
	// changes only if openat2 later proves to be gone (ENOSYS, or EPERM
	// from a seccomp filter, confirmed by a second probe): a failing
	// lookup alone never downgrades the backend.
	ResolverAuto Resolver = iota
	// ResolverOpenat2 always uses openat2; OpenRoot fails where it is
	// unavailable.
	ResolverOpenat2
	// ResolverWalk always uses the user-space walk on held fds.
	ResolverWalk
)

func (r Resolver) String() string {
	switch r {
	case ResolverOpenat2:
		return "openat2"
	case ResolverWalk:
		return "walk"
	}
	return "auto"
}

// An Option configures OpenRoot.
type Option func(*options)

type options struct {
	mode     resolve.Mode
	flags    resolve.Flags
	resolver Resolver
}

// InRoot makes the Root behave like a chroot (RESOLVE_IN_ROOT): ".." at
// the root stays at the root, and absolute names and absolute symlink
// targets are read relative to the root. No name can escape, so ErrEscape
// never comes from the name itself.
func InRoot() Option { return func(o *options) { o.mode = resolve.InRoot } }

// NoSymlinks refuses every symlink met while resolving a name, with
// ErrSymlink. Operations that act on a final link itself (Lstat,
// Readlink, Lchown, Remove, Rename) still may.
func NoSymlinks() Option { return func(o *options) { o.flags |= resolve.NoSymlinks } }

// NoXDev refuses to cross a mount point, bind mounts included, with
// ErrCrossDevice.
func NoXDev() Option { return func(o *options) { o.flags |= resolve.NoXDev } }

// WithResolver forces a backend; the default is ResolverAuto.
func WithResolver(r Resolver) Option { return func(o *options) { o.resolver = r } }

func buildOptions(opts []Option) options {
	var o options
	for _, f := range opts {
		if f != nil {
			f(&o)
		}
	}
	return o
}

// Root is a directory that names are resolved beneath. It holds an open
// file descriptor on that directory, and every operation resolves its name
// relative to that descriptor, so a Root keeps working on the very
// directory it opened even after that directory is renamed.
//
// Methods on Root may be called concurrently. Close waits for none of them:
// an operation that starts after Close fails with fs.ErrClosed, and the
// descriptor is released when the last operation in flight ends.
type Root struct {
	r *root
}

// OpenRoot opens the directory dir (a trusted path, resolved normally) as
// a Root. If there is an error, it will be of type *fs.PathError.
func OpenRoot(dir string, opts ...Option) (*Root, error) {
	r, err := openRoot(dir, buildOptions(opts))
	if err != nil {
		return nil, err
	}
	return &Root{r: r}, nil
}

// NewRoot returns a Root on the directory that f refers to (f may have been
// opened with O_PATH). The Root holds its own duplicate of the descriptor,
// so f may be closed afterwards. This is how a caller who has already
// judged a directory by its fd (securepath.OpenDir) gets a Root on that
// very directory, with no second lookup by name. Outside Linux it returns
// errors.ErrUnsupported.
//
// If there is an error, it will be of type *fs.PathError.
func NewRoot(f *os.File, opts ...Option) (*Root, error) {
	r, err := newRootFromFile(f, buildOptions(opts))
	if err != nil {
		return nil, err
	}
	return &Root{r: r}, nil
}

// Name returns the name of the directory presented to OpenRoot, or, for a
// Root opened by Root.OpenRoot, the parent's name joined with the name
// given.
func (r *Root) Name() string { return r.r.name }

// Close closes the Root. Operations in flight finish; later ones fail
// with fs.ErrClosed. Closing twice is not an error.
func (r *Root) Close() error { return r.r.close() }

// Resolver reports the backend the Root uses now: ResolverOpenat2 or
// ResolverWalk.
func (r *Root) Resolver() Resolver { return r.r.resolver() }

// Open opens the named file in the root for reading, following links as
// long as they stay inside. See OpenFile.
func (r *Root) Open(name string) (*os.File, error) {
	return r.OpenFile(name, os.O_RDONLY, 0)
}

// Create creates or truncates the named file in the root, with mode 0666
// (before umask). See OpenFile.
func (r *Root) Create(name string) (*os.File, error) {
	return r.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o666)
}

// OpenFile opens the named file in the root with flag (os.O_RDONLY etc.)
// and, when creating, perm (before umask). name must be relative (an
// absolute name is ErrEscape, except with InRoot, where it starts at the
// root).
//
// A final symlink is followed when it leads inside the root, unless flag
// has O_EXCL with O_CREATE, which never follows one (fs.ErrExist). O_CREATE
// through a dangling link creates its target only when that lies inside.
// A trailing slash requires a directory. perm bits outside 0o777 are
// refused with canon.ErrInvalid.
//
// If there is an error, it will be of type *fs.PathError.
func (r *Root) OpenFile(name string, flag int, perm fs.FileMode) (*os.File, error) {
	return r.r.openFile(name, flag, perm)
}

// OpenRoot opens the named directory in the root as a new Root with the
// same mode, flags and backend.
//
// If there is an error, it will be of type *fs.PathError.
func (r *Root) OpenRoot(name string) (*Root, error) {
	c, err := r.r.openRoot(name)
	if err != nil {
		return nil, err
	}
	return &Root{r: c}, nil
}

// Stat returns a FileInfo for the named file in the root, following a
// final link.
//
// If there is an error, it will be of type *fs.PathError.
func (r *Root) Stat(name string) (fs.FileInfo, error) { return r.r.stat(name, true) }

// Lstat returns a FileInfo for the named file in the root; a final link is
// described, not followed (but "link/" follows it).
//
// If there is an error, it will be of type *fs.PathError.
func (r *Root) Lstat(name string) (fs.FileInfo, error) { return r.r.stat(name, false) }

// ReadDir reads the named directory in the root and returns its entries
// sorted by name. Each entry's Info was taken with fstatat on the held
// directory fd while reading, never by a path name afterwards, so no
// rename between the read and a later Info can make it describe something
// else (the CVE-2026-27139 race).
//
// If there is an error, it will be of type *fs.PathError.
func (r *Root) ReadDir(name string) ([]fs.DirEntry, error) { return r.r.readDir(name) }

// Resolve returns where name really leads, every link followed: a clean,
// slash-separated path relative to the root, "." for the root itself. A
// missing component is fs.ErrNotExist. The answer is advisory: the tree
// may change after it is given; act through the Root to act without a
// race.
//
// If there is an error, it will be of type *fs.PathError.
func (r *Root) Resolve(name string) (string, error) { return r.r.resolvePath(name) }
