package resolve

import (
	"strings"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"github.com/pathguard/pathguard/internal/procfs"
	"github.com/pathguard/pathguard/internal/sys"
)

// openat2Hook, when set, replaces the openat2 system call of the openat2
// backend and the probe; tests set it (SetOpenat2ForTest) to prove the
// fallback to walk.
var openat2Hook func(dirfd int, path string, how *unix.OpenHow) (int, error)

// openat2 is the system call the openat2 backend and the probe use. how
// does not escape unless a hook is set (a call through a func value would
// move every caller's OpenHow to the heap: one allocation per lookup).
func openat2(dirfd int, path string, how *unix.OpenHow) (int, error) {
	if hook := openat2Hook; hook != nil {
		h := *how
		return hook(dirfd, path, &h)
	}
	return sys.Openat2(dirfd, path, how)
}

// SetOpenat2ForTest replaces the openat2 call used by every Engine and
// returns a function that restores it. It exists for tests in other
// packages (a refused openat2 must make Auto fall back to walk) and must
// not be used otherwise.
// Restoring also forgets what the replacement taught openat2Gone.
func SetOpenat2ForTest(fn func(dirfd int, path string, how *unix.OpenHow) (int, error)) (restore func()) {
	old := openat2Hook
	openat2Hook = fn
	return func() {
		openat2Hook = old
		openat2Gone.Store(false)
	}
}

// openat2Gone is the one place that knows whether openat2 can be used: it
// is set, for the whole process, when a probe (openat2 of a Root's "."
// with that Root's resolve flags, see Engine.probe) fails with ENOSYS
// (the kernel lacks it) or EPERM (a seccomp filter refuses it). Only a
// probe sets it, never a lookup's own failure: an attacker who can make
// one lookup fail must not be able to choose the backend ("no
// downgrade"). It is never cleared: a kernel does not gain a system call,
// and a seccomp filter cannot be removed.
var openat2Gone atomic.Bool

// Engine resolves names beneath one held directory fd. It does not own
// that fd: the caller keeps it open for as long as the Engine is used.
// An Engine is safe for concurrent use.
type Engine struct {
	root    int
	mode    Mode
	flags   Flags
	rootMnt uint64 // the root's mount id, for NoXDev

	// walkOnly is set for an Engine forced to the walk backend; any
	// other uses openat2 until openat2Gone says it is gone.
	walkOnly bool
}

// New returns an Engine for the directory fd root. With Auto, a probe
// (openat2 of "." with the Engine's own resolve flags) chooses openat2
// unless the kernel lacks it (ENOSYS) or a seccomp filter refuses it
// (EPERM); with Openat2 the probe must succeed.
func New(root int, mode Mode, flags Flags, backend Backend) (*Engine, error) {
	r := &Engine{root: root, mode: mode, flags: flags}
	var st unix.Stat_t
	if err := sys.Fstat(root, &st); err != nil {
		return nil, err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFDIR {
		return nil, unix.ENOTDIR
	}
	if flags&NoXDev != 0 {
		id, err := sys.MountID(root)
		if err != nil {
			return nil, err
		}
		r.rootMnt = id
	}
	switch backend {
	case Walk:
		r.walkOnly = true
	case Openat2:
		if err := r.probe(); err != nil {
			return nil, err
		}
	default:
		if openat2Gone.Load() {
			break
		}
		switch err := r.probe(); err {
		case nil, unix.ENOSYS, unix.EPERM:
			// openat2, or the walk now that openat2Gone says so.
		default:
			return nil, err
		}
	}
	return r, nil
}

// Backend reports the backend in use: Openat2 or Walk.
func (r *Engine) Backend() Backend {
	if r.walkOnly || openat2Gone.Load() {
		return Walk
	}
	return Openat2
}

// Mode reports the Engine's mode.
func (r *Engine) Mode() Mode { return r.mode }

// Flags reports the Engine's flags.
func (r *Engine) Flags() Flags { return r.flags }

// Child returns an Engine for the directory fd dir (not owned) with the
// same mode, flags and backend.
func (r *Engine) Child(dir int) (*Engine, error) {
	return New(dir, r.mode, r.flags, r.Backend())
}

// probe opens the root's "." with openat2 and the Engine's own resolve
// flags; ENOSYS or EPERM there means openat2 is gone (openat2Gone).
func (r *Engine) probe() error {
	fd, err := openat2(r.root, ".", &unix.OpenHow{Flags: unix.O_PATH, Resolve: r.resolveFlags()})
	switch err {
	case nil:
		sys.Close(fd)
	case unix.ENOSYS, unix.EPERM:
		openat2Gone.Store(true)
	}
	return err
}

// retrying is the engine's one retry policy. attempt is one whole lookup;
// it returns EAGAIN when it lost a race it can detect (openat2's EAGAIN
// under a concurrent rename anywhere on the system, its EXDEV in InRoot
// mode, an entry the walk reopened that changed). The lookup is run again
// from the start, at most maxRetries times in all, whatever the backend
// and whichever check asked; then the answer is ErrRetry, which matches
// syscall.EAGAIN and says the call may be repeated. Nothing below this
// retries EAGAIN, so the bound is the whole cost.
func retrying[T any](attempt func() (T, error)) (T, error) {
	for range maxRetries {
		v, err := attempt()
		if err != unix.EAGAIN {
			return v, err
		}
	}
	var zero T
	return zero, ErrRetry
}

// resolveFlags is the openat2 resolve mask for the Engine's policy.
// RESOLVE_NO_MAGICLINKS is always set: a magic link's target is decided by
// the kernel, not by the link's text, and can lead anywhere.
func (r *Engine) resolveFlags() uint64 {
	f := uint64(unix.RESOLVE_NO_MAGICLINKS)
	if r.mode == InRoot {
		f |= unix.RESOLVE_IN_ROOT
	} else {
		f |= unix.RESOLVE_BENEATH
	}
	if r.flags&NoSymlinks != 0 {
		f |= unix.RESOLVE_NO_SYMLINKS
	}
	if r.flags&NoXDev != 0 {
		f |= unix.RESOLVE_NO_XDEV
	}
	return f
}

// Open resolves name under the root and opens it with flags (O_CLOEXEC is
// always added) and, when creating, perm. The final component is followed
// unless flags has O_NOFOLLOW (O_PATH|O_NOFOLLOW returns the link itself)
// or O_CREAT|O_EXCL. A trailing slash requires a directory and follows a
// final link; O_CREAT with a trailing slash is EISDIR.
func (r *Engine) Open(name string, flags int, perm uint32) (int, error) {
	if err := r.check(name); err != nil {
		return -1, err
	}
	if hasTrailingSlash(name) && flags&unix.O_CREAT != 0 {
		return -1, r.createDir(name)
	}
	fd, err := retrying(func() (int, error) { return r.open(name, flags, perm) })
	return fd, r.mapErr(err)
}

// createDir answers O_CREAT of a name with a trailing slash, which open(2)
// refuses with EISDIR. The name is still resolved first (O_PATH, nothing
// created) so that one that leads outside, through a refused link or
// across a mount is reported as such, as any other lookup of it would be.
func (r *Engine) createDir(name string) error {
	fd, err := retrying(func() (int, error) { return r.open(name, unix.O_PATH, 0) })
	if err == nil {
		sys.Close(fd)
	}
	if err == nil || err == unix.ENOENT || err == unix.ENOTDIR {
		return unix.EISDIR
	}
	return r.mapErr(err)
}

// check validates name and refuses absolute names in Beneath mode. Every
// lookup an Engine is asked for starts here.
func (r *Engine) check(name string) error {
	if hook := lookupHook.Load(); hook != nil {
		(*hook)(name)
	}
	if err := Validate(name); err != nil {
		return err
	}
	if r.mode == Beneath && name[0] == '/' {
		return ErrEscape
	}
	return nil
}

// mapErr makes the two backends fail alike: under NoSymlinks every ELOOP
// comes from a refused link.
func (r *Engine) mapErr(err error) error {
	if err == unix.ELOOP && r.flags&NoSymlinks != 0 {
		return ErrSymlink
	}
	return err
}

// open is one attempt at a lookup, with the backend in use; EAGAIN asks
// retrying for another.
func (r *Engine) open(name string, flags int, perm uint32) (int, error) {
	if r.Backend() == Openat2 {
		fd, err := r.openat2(name, flags, perm)
		if err == unix.EACCES && r.meetsMagicLink(name, flags) {
			return -1, unix.ELOOP
		}
		if err != unix.ENOSYS && err != unix.EPERM {
			return fd, err
		}
		// No downgrade on a lookup's say-so: only when the probe also
		// fails with ENOSYS or EPERM is openat2 really gone (a seccomp
		// filter installed after OpenRoot). A genuine EPERM from the
		// lookup (O_NOATIME, an immutable file) stands.
		if !r.reprobe() {
			return fd, err
		}
	}
	return r.walkOpen(name, flags, perm, nil)
}

// meetsMagicLink reports whether the walk, which acts on nothing, refuses
// name with ELOOP. The kernel checks ptrace access to a /proc/<pid> magic
// link (proc_pid_get_link) before RESOLVE_NO_MAGICLINKS refuses it, so
// openat2 says EACCES for another process's root or exe where the walk,
// which decides magic links before anything else, says ELOOP. Asking the
// walk keeps the two backends alike; it is only called on EACCES.
func (r *Engine) meetsMagicLink(name string, flags int) bool {
	excl := flags&(unix.O_CREAT|unix.O_EXCL) == unix.O_CREAT|unix.O_EXCL
	w := r.newWalker()
	defer w.close()
	_, err := w.walk(name, walkOpts{follow: flags&unix.O_NOFOLLOW == 0 && !excl})
	return err == unix.ELOOP
}

// reprobe runs the probe again and reports whether openat2 is gone, in
// which case the walk answers from now on.
func (r *Engine) reprobe() bool {
	err := r.probe()
	return err == unix.ENOSYS || err == unix.EPERM
}

// openat2 is the fast path: one system call straight to the final flags.
func (r *Engine) openat2(name string, flags int, perm uint32) (int, error) {
	how := unix.OpenHow{Flags: uint64(flags), Resolve: r.resolveFlags()}
	// openat2 refuses a mode without O_CREAT or O_TMPFILE, which openat
	// ignores.
	if flags&unix.O_CREAT != 0 || flags&unix.O_TMPFILE == unix.O_TMPFILE {
		how.Mode = uint64(perm)
	}
	if hasTrailingSlash(name) {
		// "link/" must follow the link even under O_NOFOLLOW; never hand
		// the kernel the slash itself, say what it means instead.
		name = strings.TrimRight(name, "/")
		if name == "" {
			name = "/"
		}
		how.Flags = how.Flags&^unix.O_NOFOLLOW | unix.O_DIRECTORY
	}
	fd, err := openat2(r.root, name, &how)
	if err == unix.EXDEV {
		err = r.classifyEXDEV(name, how.Flags)
	}
	return fd, err
}

// classifyEXDEV tells what an EXDEV from openat2 of name with flags meant.
// Without NoXDev, in Beneath mode it is an escape; in InRoot mode nothing
// the name says can escape, so an EXDEV is the kernel's final check
// failing under a concurrent rename: EAGAIN, to be retried.
//
// Under NoXDev it is a mount crossing or an escape, whichever the lookup
// met first. The walk, which also stops at the first of them, tells which:
// it opens the mount point's root to read its mount id and looks up
// nothing beyond it (no link on the other mount is read, no directory
// there searched; on NFS or FUSE that could block). It follows a final
// link only if the first lookup did (not under O_NOFOLLOW or
// O_CREAT|O_EXCL). A walk that meets neither answers for a tree that
// changed in between: EAGAIN.
func (r *Engine) classifyEXDEV(name string, flags uint64) error {
	if r.flags&NoXDev == 0 {
		if r.mode == InRoot {
			return unix.EAGAIN
		}
		return ErrEscape
	}
	excl := flags&(unix.O_CREAT|unix.O_EXCL) == unix.O_CREAT|unix.O_EXCL
	w := r.newWalker()
	defer w.close()
	_, err := w.walk(name, walkOpts{
		follow:  flags&unix.O_NOFOLLOW == 0 && !excl,
		create:  flags&unix.O_CREAT != 0,
		mustDir: flags&unix.O_DIRECTORY != 0,
	})
	if err == nil {
		return unix.EAGAIN
	}
	return err
}

// CheckMount refuses the fd of a directory reached by the caller's own
// walk (RemoveAll's descent) when it lies on another mount than the root
// and the Engine has NoXDev: ErrCrossDevice. Without NoXDev it is nil.
func (r *Engine) CheckMount(fd int) error {
	return (&walker{r: r}).checkMount(fd)
}

// Parent resolves all of name but its last component to a directory and
// returns an O_PATH fd on it (owned by the caller) and that last
// component, for operations that act on the entry itself with one *at
// system call (unlinkat, mkdirat, renameat2, symlinkat, linkat). The last
// component is never followed here. last may be "." or ".." when name
// ends so; slash reports a trailing slash on name.
func (r *Engine) Parent(name string) (dirfd int, last string, slash bool, err error) {
	if err := r.check(name); err != nil {
		return -1, "", false, err
	}
	slash = hasTrailingSlash(name)
	trimmed := strings.TrimRight(name, "/")
	dir, last := ".", trimmed
	if i := strings.LastIndexByte(trimmed, '/'); i >= 0 {
		dir, last = trimmed[:i+1], trimmed[i+1:]
	}
	if last == "" { // name was all slashes (InRoot): the root itself
		last = "."
	}
	if dir != "." {
		// "dir/." and not "dir/": a link ending dir is then in the middle
		// of the lookup, not its trailing link, so fs.protected_symlinks
		// does not apply to it, as in the kernel's own mkdirat or
		// unlinkat of the same name (only the final component, which
		// Parent never follows, is trailing there).
		dir += "."
	}
	fd, err := retrying(func() (int, error) { return r.open(dir, unix.O_PATH|unix.O_DIRECTORY, 0) })
	if err != nil {
		return -1, "", false, r.mapErr(err)
	}
	return fd, last, slash, nil
}

// Resolve returns where name really leads, following every link: a clean,
// slash-separated path relative to the root, "." for the root itself.
//
// With the openat2 backend the kernel resolves name, the procfs handle
// says where the fd it gave and the root are, and the path between them
// is accepted only if openat2 of it, refusing every symlink, reaches the
// same inode: a path the kernel itself confirms, at the cost of about
// three lookups. Otherwise (no procfs, a path procfs cannot show, a
// rename in between, or the walk backend) the path is built from the
// walk's own components; with the openat2 backend the kernel's answer is
// also opened and must be the same inode, or the lookup is retried.
func (r *Engine) Resolve(name string) (string, error) {
	if err := r.check(name); err != nil {
		return "", err
	}
	p, err := retrying(func() (string, error) { return r.resolve(name) })
	return p, r.mapErr(err)
}

// resolve is one attempt of Resolve; EAGAIN when the two backends saw
// different inodes (a rename between them).
func (r *Engine) resolve(name string) (string, error) {
	var want unix.Stat_t
	kernel := r.Backend() == Openat2
	if kernel {
		fd, err := r.open(name, unix.O_PATH, 0)
		if err != nil {
			return "", err
		}
		p, ok := r.kernelPath(fd)
		err = sys.Fstat(fd, &want)
		sys.Close(fd)
		if ok {
			return p, nil
		}
		if err != nil {
			return "", err
		}
	}
	w := r.newWalker()
	defer w.close()
	if _, err := w.walk(name, walkOpts{follow: true}); err != nil {
		return "", err
	}
	var got unix.Stat_t
	if err := sys.Fstat(w.top().fd, &got); err != nil {
		return "", err
	}
	if kernel && (got.Dev != want.Dev || got.Ino != want.Ino) {
		return "", unix.EAGAIN
	}
	return w.path(), nil
}

// kernelPath returns fd's path relative to the root as procfs tells it,
// and true if openat2 of that path under the Engine's own resolve flags
// and RESOLVE_NO_SYMLINKS reaches fd's very inode.
func (r *Engine) kernelPath(fd int) (string, bool) {
	h, err := procfs.Get()
	if err != nil {
		return "", false
	}
	target, err := h.Readlink(fd)
	if err != nil {
		return "", false
	}
	root, err := h.Readlink(r.root)
	if err != nil || !strings.HasPrefix(root, "/") {
		return "", false
	}
	rel, ok := "", false
	switch {
	case target == root:
		rel, ok = ".", true
	case root == "/":
		rel, ok = strings.CutPrefix(target, "/")
	default:
		rel, ok = strings.CutPrefix(target, root+"/")
	}
	if !ok || rel == "" || Validate(rel) != nil {
		return "", false
	}
	check, err := openat2(r.root, rel, &unix.OpenHow{
		Flags:   unix.O_PATH | unix.O_NOFOLLOW,
		Resolve: r.resolveFlags() | unix.RESOLVE_NO_SYMLINKS,
	})
	if err != nil {
		return "", false
	}
	defer sys.Close(check)
	var a, b unix.Stat_t
	if sys.Fstat(fd, &a) != nil || sys.Fstat(check, &b) != nil || a.Dev != b.Dev || a.Ino != b.Ino {
		return "", false
	}
	return rel, true
}
