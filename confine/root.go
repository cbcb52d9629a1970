package confine

import (
	"io/fs"
	"os"
	"strings"
	"time"

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

	// ErrInvalid means a name or mode is unusable: empty, holding a NUL
	// byte, 4096 bytes or longer, with a component over 255 bytes, or
	// mode bits outside 0o777. It is canon.ErrInvalid (the same value),
	// here so that one import covers every sentinel a caller maps, and
	// matches fs.ErrInvalid and syscall.EINVAL.
	ErrInvalid = resolve.ErrInvalid
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
	mode      resolve.Mode
	flags     resolve.Flags
	resolver  Resolver
	noSpecial bool // NoSpecialFiles
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
// with fs.ErrClosed. Closing twice is not an error. As with os.Root, a
// Root that is dropped without Close releases its descriptor when the
// garbage collector reclaims it; Close releases it at once.
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
// refused, as os.Root refuses them: an "unsupported file mode" error that
// matches canon.ErrInvalid.
//
// If there is an error, it will be of type *fs.PathError.
func (r *Root) OpenFile(name string, flag int, perm fs.FileMode) (*os.File, error) {
	if err := checkPerm(perm); err != nil {
		return nil, &fs.PathError{Op: "openat", Path: name, Err: err}
	}
	f, err := r.r.openFile(name, flag, perm)
	return f, withOp("openat", err)
}

// OpenRoot opens the named directory in the root as a new Root with the
// same mode, flags and backend.
//
// If there is an error, it will be of type *fs.PathError.
func (r *Root) OpenRoot(name string) (*Root, error) {
	c, err := r.r.openRoot(name)
	if err != nil {
		return nil, withOp("openat", err)
	}
	return &Root{r: c}, nil
}

// Stat returns a FileInfo for the named file in the root, following a
// final link.
//
// If there is an error, it will be of type *fs.PathError.
func (r *Root) Stat(name string) (fs.FileInfo, error) {
	fi, err := r.r.stat(name, true)
	return fi, withOp("statat", err)
}

// Lstat returns a FileInfo for the named file in the root; a final link is
// described, not followed (but "link/" follows it).
//
// If there is an error, it will be of type *fs.PathError.
func (r *Root) Lstat(name string) (fs.FileInfo, error) {
	fi, err := r.r.stat(name, false)
	return fi, withOp("statat", err)
}

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

// Mkdir creates a new directory in the root with perm (before umask). The
// parent is resolved on held fds and the directory is made with one
// mkdirat on the final component, which is never followed: "link/"
// where link exists is fs.ErrExist, as mkdir(2) says. perm bits outside
// 0o777 are refused as in OpenFile.
//
// If there is an error, it will be of type *fs.PathError.
func (r *Root) Mkdir(name string, perm fs.FileMode) error {
	if err := checkPerm(perm); err != nil {
		return &fs.PathError{Op: "mkdirat", Path: name, Err: err}
	}
	return withOp("mkdirat", r.r.mkdir(name, perm))
}

// MkdirAll creates the named directory in the root and any missing
// parents, with perm (before umask). The part of name that exists is
// resolved once, as by any other operation, so a link met on the way is
// followed only inside the root; each missing directory is then made in
// its held parent and opened there without following a link, so the cost
// is linear in the length of name. A directory created concurrently by
// someone else is accepted; a link created concurrently at a missing name
// is not followed (fs.ErrExist). A final component that is a link to a
// directory is accepted; a dangling link is not followed (its target is
// never created, unlike os.Root): fs.ErrExist, as for an entry that is
// not a directory. On error, what was created stays, all of it inside
// the root.
//
// If there is an error, it will be of type *fs.PathError.
func (r *Root) MkdirAll(name string, perm fs.FileMode) error {
	if err := checkPerm(perm); err != nil {
		return &fs.PathError{Op: "mkdirat", Path: name, Err: err}
	}
	return r.r.mkdirAll(name, perm)
}

// Remove removes the named file or empty directory in the root. A final
// link is removed itself, never followed. "link/" is ENOTDIR: unlike
// os.Root, which removes the link's target, a Root never acts on what a
// name with a trailing slash leads to.
//
// If there is an error, it will be of type *fs.PathError.
func (r *Root) Remove(name string) error { return withOp("removeat", r.r.remove(name)) }

// RemoveAll removes the named file or directory in the root and all it
// contains. It never follows a link: a link is removed itself, and the
// directories below name are opened one component at a time with
// O_NOFOLLOW on held fds, so a directory swapped for a link mid-way is not
// entered. Like os.RemoveAll it returns nil if name does not exist. A
// name ending in "." or ".." is refused (EINVAL) before anything is
// removed, whether or not it exists; os.Root empties the directory
// "d/.." leads to before it fails.
//
// If there is an error, it will be of type *fs.PathError.
func (r *Root) RemoveAll(name string) error { return withOp("RemoveAll", r.r.removeAll(name)) }

// Rename renames oldname to newname, both in the root, with one
// renameat2 between the two held parent directories. Neither final
// component is followed. A trailing slash requires oldname to be a
// directory ("link/" is ENOTDIR, a deliberate difference from os.Root).
// As with os.Rename, an existing directory at newname is fs.ErrExist.
//
// If there is an error, it will be of type *os.LinkError, as os.Root's.
func (r *Root) Rename(oldname, newname string) error {
	return linkError("renameat", oldname, newname, r.r.rename(oldname, newname))
}

// Link creates newname as a hard link to oldname, both in the root. A
// final link at oldname is linked itself, never followed (linkat without
// AT_SYMLINK_FOLLOW).
//
// If there is an error, it will be of type *os.LinkError, as os.Root's.
func (r *Root) Link(oldname, newname string) error {
	return linkError("linkat", oldname, newname, r.r.link(oldname, newname))
}

// Symlink creates newname in the root as a symbolic link to oldname. The
// target is stored as given, like os.Root does, whatever it says: it is
// checked when a later operation follows it, so a link that would lead
// outside the root is refused at use (ErrEscape in Beneath mode). With
// InRoot, an absolute target is read relative to the root at use.
// Processes that use the link outside a Root get no such protection.
//
// If there is an error, it will be of type *os.LinkError, as os.Root's.
func (r *Root) Symlink(oldname, newname string) error {
	return linkError("symlinkat", oldname, newname, r.r.symlink(oldname, newname))
}

// Readlink returns the target of the named symbolic link in the root.
//
// If there is an error, it will be of type *fs.PathError.
func (r *Root) Readlink(name string) (string, error) {
	t, err := r.r.readlink(name)
	return t, withOp("readlinkat", err)
}

// Chmod changes the mode of the named file in the root, following a
// final link that stays inside. The change is made on the very inode the
// name resolved to (fchmodat2 on an O_PATH fd, or the fd's /proc entry
// where fchmodat2 is missing), never by name, so a link swapped in after
// the resolution is not followed (the CVE-2026-32282 race, which os.Root
// documents). As with os.Chmod, the permission bits and the setuid,
// setgid and sticky bits of mode are used, and its type bits ignored.
//
// If there is an error, it will be of type *fs.PathError.
func (r *Root) Chmod(name string, mode fs.FileMode) error {
	return withOp("chmodat", r.r.chmod(name, sysMode(mode)))
}

// Chown changes the numeric uid and gid of the named file in the root,
// following a final link that stays inside; the change is made on the
// resolved inode's fd. A uid or gid of -1 leaves that value unchanged.
//
// If there is an error, it will be of type *fs.PathError.
func (r *Root) Chown(name string, uid, gid int) error {
	return withOp("chownat", r.r.chown(name, uid, gid, true))
}

// Lchown changes the numeric uid and gid of the named file in the root,
// acting on a final link itself.
//
// If there is an error, it will be of type *fs.PathError.
func (r *Root) Lchown(name string, uid, gid int) error {
	return withOp("lchownat", r.r.chown(name, uid, gid, false))
}

// Chtimes changes the access and modification times of the named file in
// the root, following a final link that stays inside; the change is made
// on the resolved inode's fd. A zero time.Time leaves that time
// unchanged, as with os.Chtimes.
//
// If there is an error, it will be of type *fs.PathError.
func (r *Root) Chtimes(name string, atime, mtime time.Time) error {
	return withOp("chtimesat", r.r.chtimes(name, atime, mtime))
}

// ReadFile reads the named file in the root and returns its contents. A
// file's reported size only guides the first allocation (at most 1 MiB);
// memory then grows with the data really read, so a sparse file claiming
// an absurd size cannot make ReadFile panic up front. ReadFile still reads
// to the end: for files an attacker controls, prefer Open with an
// io.LimitReader.
//
// If there is an error, it will be of type *fs.PathError.
func (r *Root) ReadFile(name string) ([]byte, error) {
	f, err := r.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readAll(f, name)
}

// WriteFile writes data to the named file in the root, creating it with
// perm (before umask) if needed and truncating it otherwise. A final link
// is followed only inside the root; see OpenFile.
//
// If there is an error, it will be of type *fs.PathError.
func (r *Root) WriteFile(name string, data []byte, perm fs.FileMode) error {
	f, err := r.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, perm)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err1 := f.Close(); err == nil {
		err = err1
	}
	if err != nil {
		return &fs.PathError{Op: "write", Path: name, Err: underlying(err)}
	}
	return nil
}

// errUnsupportedMode refuses a perm that Mkdir, MkdirAll and OpenFile do
// not take (anything outside 0o777: setuid, setgid, sticky and type
// bits), with os.Root's words, and matches canon.ErrInvalid.
var errUnsupportedMode error = modeError{}

type modeError struct{}

func (modeError) Error() string        { return "unsupported file mode" }
func (modeError) Is(target error) bool { return target == resolve.ErrInvalid }

// checkPerm refuses perm bits outside 0o777, as os.Root does: a file or
// directory is never created setuid, setgid or sticky through a Root.
func checkPerm(perm fs.FileMode) error {
	if perm&^fs.ModePerm != 0 {
		return errUnsupportedMode
	}
	return nil
}

// sysMode is the st_mode that os.Chmod sets for mode: its permission bits
// and its setuid, setgid and sticky bits; type bits are ignored.
func sysMode(mode fs.FileMode) fs.FileMode {
	return mode & (fs.ModePerm | fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky)
}

// withOp gives an error of a Root method the Op that os.Root's method of
// the same name uses, whichever step of the call failed, so code written
// for os.Root reads confine's errors the same way. Path and Err are kept.
func withOp(op string, err error) error {
	if pe, ok := err.(*fs.PathError); ok && pe.Op != op {
		return &fs.PathError{Op: op, Path: pe.Path, Err: pe.Err}
	}
	return err
}

// linkError is the *os.LinkError that os.Root's Rename, Link and Symlink
// return, from an error of the two-name methods.
func linkError(op, oldname, newname string, err error) error {
	switch e := err.(type) {
	case nil:
		return nil
	case *fs.PathError:
		err = e.Err
	case *os.LinkError:
		err = e.Err
	}
	return &os.LinkError{Op: op, Old: oldname, New: newname, Err: err}
}

// endsInDot reports whether name's last component, trailing slashes
// dropped, is "." or "..": a name RemoveAll refuses.
func endsInDot(name string) bool {
	name = strings.TrimRight(name, "/")
	last := name[strings.LastIndexByte(name, '/')+1:]
	return last == "." || last == ".."
}
