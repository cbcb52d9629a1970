//go:build !pathguard_osroot

package confine

import (
	"io/fs"
	"os"
	"path"
	"runtime"
	"slices"
	"strings"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/pathguard/pathguard/internal/resolve"
	"github.com/pathguard/pathguard/internal/sys"
)

// root is the Linux Root: a held O_PATH directory fd and the Resolver that
// does every lookup relative to it.
type root struct {
	name string
	opts options
	eng  *resolve.Engine

	mu      sync.Mutex
	fd      int
	refs    int // operations in flight
	closed  bool
	cleanup runtime.Cleanup // closes fd if the root is dropped unclosed
}

func backendOf(r Resolver) resolve.Backend {
	switch r {
	case ResolverOpenat2:
		return resolve.Openat2
	case ResolverWalk:
		return resolve.Walk
	}
	return resolve.Auto
}

func openRoot(dir string, o options) (*root, error) {
	if err := resolve.Validate(dir); err != nil {
		return nil, &fs.PathError{Op: "openat", Path: dir, Err: err}
	}
	fd, err := sys.Openat(unix.AT_FDCWD, dir, unix.O_PATH|unix.O_DIRECTORY, 0)
	if err != nil {
		return nil, &fs.PathError{Op: "openat", Path: dir, Err: err}
	}
	return newRoot(dir, fd, o, func(fd int) (*resolve.Engine, error) {
		return resolve.New(fd, o.mode, o.flags, backendOf(o.resolver))
	})
}

func newRootFromFile(f *os.File, o options) (*root, error) {
	if f == nil {
		return nil, &fs.PathError{Op: "dup", Path: "", Err: fs.ErrInvalid}
	}
	fd, err := sys.Dup(int(f.Fd()))
	runtime.KeepAlive(f)
	if err != nil {
		return nil, &fs.PathError{Op: "dup", Path: f.Name(), Err: err}
	}
	return newRoot(f.Name(), fd, o, func(fd int) (*resolve.Engine, error) {
		return resolve.New(fd, o.mode, o.flags, backendOf(o.resolver))
	})
}

// newRoot takes ownership of fd.
func newRoot(name string, fd int, o options, mk func(int) (*resolve.Engine, error)) (*root, error) {
	eng, err := mk(fd)
	if err != nil {
		sys.Close(fd)
		return nil, &fs.PathError{Op: "openat", Path: name, Err: err}
	}
	r := &root{name: name, opts: o, eng: eng, fd: fd}
	// As os.Root does, a Root dropped without Close releases its
	// descriptor. The cleanup is attached to the inner root, which every
	// operation in flight keeps reachable, so it never runs during one;
	// close stops it, so an fd number reused later is never closed.
	r.cleanup = runtime.AddCleanup(r, func(fd int) { sys.Close(fd) }, fd)
	return r, nil
}

// incref marks an operation in flight; it fails once the Root is closed.
func (r *root) incref() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return fs.ErrClosed
	}
	r.refs++
	return nil
}

func (r *root) decref() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.refs--; r.refs == 0 && r.closed {
		sys.Close(r.fd)
	}
}

func (r *root) close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.closed {
		r.cleanup.Stop()
		if r.refs == 0 {
			sys.Close(r.fd)
		}
	}
	r.closed = true
	return nil
}

func (r *root) resolver() Resolver {
	if r.eng.Backend() == resolve.Walk {
		return ResolverWalk
	}
	return ResolverOpenat2
}

// joinName is the name an *os.File opened through the Root carries.
func (r *root) joinName(name string) string {
	return r.name + string(os.PathSeparator) + name
}

func (r *root) openFile(name string, flag int, perm fs.FileMode) (*os.File, error) {
	if err := r.incref(); err != nil {
		return nil, &fs.PathError{Op: "openat", Path: name, Err: err}
	}
	defer r.decref()
	fd, err := r.openFd(name, flag, uint32(perm))
	if err != nil {
		return nil, &fs.PathError{Op: "openat", Path: name, Err: err}
	}
	return os.NewFile(uintptr(fd), r.joinName(name)), nil
}

func (r *root) openRoot(name string) (*root, error) {
	if err := r.incref(); err != nil {
		return nil, &fs.PathError{Op: "openat", Path: name, Err: err}
	}
	defer r.decref()
	fd, err := r.eng.Open(name, unix.O_PATH|unix.O_DIRECTORY, 0)
	if err != nil {
		return nil, &fs.PathError{Op: "openat", Path: name, Err: err}
	}
	return newRoot(r.joinName(name), fd, r.opts, r.eng.Child)
}

func (r *root) stat(name string, follow bool) (fs.FileInfo, error) {
	op := "statat"
	flags := unix.O_PATH
	if !follow {
		op, flags = "lstatat", unix.O_PATH|unix.O_NOFOLLOW
	}
	if err := r.incref(); err != nil {
		return nil, &fs.PathError{Op: op, Path: name, Err: err}
	}
	defer r.decref()
	if r.eng.Backend() == resolve.Walk {
		if fi, ok, err := r.statEntry(name, follow); ok {
			if err != nil {
				return nil, &fs.PathError{Op: op, Path: name, Err: err}
			}
			return fi, nil
		}
	}
	fd, err := r.eng.Open(name, flags, 0)
	if err != nil {
		return nil, &fs.PathError{Op: op, Path: name, Err: err}
	}
	fi, err := statFd(fd, baseName(name))
	if err != nil {
		return nil, &fs.PathError{Op: op, Path: name, Err: err}
	}
	return fi, nil
}

// statEntry is Stat and Lstat with the walk backend, whose lookup of the
// final entry fstats it to tell a link, before os's FileInfo fstats it
// again. Here the engine resolves the parent, and the entry is opened in
// it with O_PATH|O_NOFOLLOW (the walk's own last step, and its mount
// check under NoXDev) and described by the one fstat of its FileInfo.
// ok is false, and the engine's whole lookup answers, for a link that
// Stat follows, a trailing slash and a final "." or "..".
func (r *root) statEntry(name string, follow bool) (fi fs.FileInfo, ok bool, err error) {
	dir, last := splitDir(name)
	if last == "" || last == "." || last == ".." || strings.HasSuffix(name, "/") {
		return nil, false, nil
	}
	dirfd := r.fd
	if dir == "" {
		if err := resolve.Validate(name); err != nil {
			return nil, true, err
		}
	} else {
		if dirfd, _, _, err = r.eng.Parent(name); err != nil {
			return nil, true, err
		}
		defer sys.Close(dirfd)
	}
	fd, err := sys.OpenPath(dirfd, last)
	if err != nil {
		return nil, true, err
	}
	if err := r.eng.CheckMount(fd); err != nil {
		sys.Close(fd)
		return nil, true, err
	}
	if fi, err = statFd(fd, last); err != nil {
		return nil, true, err
	}
	if follow && fi.Mode()&fs.ModeSymlink != 0 {
		return nil, false, nil
	}
	return fi, true, nil
}

// baseName is the last element of name, as os.Root's FileInfo reports it.
func baseName(name string) string {
	b := path.Base(strings.TrimRight(name, "/"))
	if b == "" {
		return "/"
	}
	return b
}

func (r *root) readDir(name string) ([]fs.DirEntry, error) {
	if err := r.incref(); err != nil {
		return nil, &fs.PathError{Op: "readdirent", Path: name, Err: err}
	}
	defer r.decref()
	fd, err := r.eng.Open(name, unix.O_RDONLY|unix.O_DIRECTORY, 0)
	if err != nil {
		return nil, &fs.PathError{Op: "openat", Path: name, Err: err}
	}
	// f owns fd from here on, and closes it.
	f := os.NewFile(uintptr(fd), r.joinName(name))
	defer f.Close()
	entries, err := readDirFile(f, name, -1)
	if err != nil {
		return nil, err
	}
	slices.SortFunc(entries, func(a, b fs.DirEntry) int { return strings.Compare(a.Name(), b.Name()) })
	return entries, nil
}

func (r *root) resolvePath(name string) (string, error) {
	if err := r.incref(); err != nil {
		return "", &fs.PathError{Op: "resolve", Path: name, Err: err}
	}
	defer r.decref()
	p, err := r.eng.Resolve(name)
	if err != nil {
		return "", &fs.PathError{Op: "resolve", Path: name, Err: err}
	}
	return p, nil
}
