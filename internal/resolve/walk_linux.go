package resolve

import (
	"strings"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"github.com/pathguard/pathguard/internal/procfs"
	"github.com/pathguard/pathguard/internal/sys"
)

// The walk backend is a state machine over two stacks:
//
//   - todo holds the components still to resolve, last one first, so
//     taking the next component is a pop and expanding a symlink pushes
//     the components of its text;
//   - stack holds the directories resolved so far, each an O_PATH fd
//     with the name it was opened by, the root at the bottom. ".." pops
//     it, so nothing above the root is ever used. The kernel is handed
//     ".." only to reopen a directory whose fd was released (past
//     maxHeld), as a run of ".." of the lowest entry still held, and the
//     answer must be the very directory released (up).
//
// Every other step opens exactly one name, with no slash, relative to the
// fd on top of the stack, with O_PATH|O_NOFOLLOW: the kernel never follows a
// link or crosses "..", so whatever the attacker renames concurrently, the
// fd reached is a child of a directory that was itself inside the root.

// walkOpts says how the final component is treated.
type walkOpts struct {
	follow  bool // follow a final symlink
	create  bool // a missing final component is not an error
	mustDir bool // the final entry must be a directory (a trailing slash)

	// direct opens the last component at once with flags|O_NOFOLLOW and
	// perm in its held parent, the walker's opened fd on success. Only a
	// link (ELOOP) or a non-directory under O_DIRECTORY (ENOTDIR) takes
	// the general path, which decides whether to follow.
	direct bool
	flags  int
	perm   uint32
}

type entry struct {
	fd   int // -1 once released to bound the fds held
	name string
	mode uint32 // st_mode; only S_IFDIR for a directory passed through
	dev  uint64 // dev and ino: for the last component, and for an
	ino  uint64 // entry whose fd was released (up checks them)
	uid  uint32 // only for the last component
}

type walker struct {
	r     *Engine
	stack []entry // stack[0] is the root: fd r.root, never closed here
	held  int     // fds held in stack[1:]
	low   int     // stack[1:low] have been released
	hops  int
	// steps counts the entries pushed and reopened, the walk's work; a
	// test may set stepLimit to stop a walk that exceeds it (ELOOP).
	steps, stepLimit int

	opened int // the fd of a direct open (walkOpts.direct), else -1

	obs Observer // Trace's or Observe's, else nil
}

// walksStarted counts the walkers made, so that tests can tell a lookup
// the kernel answered alone from one that walked.
var walksStarted atomic.Int64

func (r *Engine) newWalker() *walker {
	walksStarted.Add(1)
	w := &walker{r: r, low: 1, opened: -1}
	w.stack = append(w.stack, entry{fd: r.root, name: ".", mode: unix.S_IFDIR})
	return w
}

// close releases every fd the walker holds.
func (w *walker) close() {
	for len(w.stack) > 1 {
		w.pop()
	}
}

func (w *walker) top() *entry { return &w.stack[len(w.stack)-1] }

// push adds a resolved entry. Past maxHeld fds, the lowest held one is
// closed; its name, device and inode stay, so that a ".." back down to it
// can reopen it and check that it is the same directory (up).
func (w *walker) push(e entry) error {
	if w.held >= maxHeld {
		low := &w.stack[w.low]
		var st unix.Stat_t
		if err := sys.Fstat(low.fd, &st); err != nil {
			sys.Close(e.fd)
			return err
		}
		sys.Close(low.fd)
		low.fd, low.dev, low.ino = -1, st.Dev, st.Ino
		w.low++
		w.held--
	}
	w.stack = append(w.stack, e)
	w.held++
	return w.step()
}

// step counts one entry opened; past a test's stepLimit it is ELOOP.
func (w *walker) step() error {
	if w.steps++; w.stepLimit > 0 && w.steps > w.stepLimit {
		return unix.ELOOP
	}
	return nil
}

// detach removes the top entry from the stack and hands its fd to the
// caller.
func (w *walker) detach() int {
	fd := w.top().fd
	w.stack = w.stack[:len(w.stack)-1]
	w.held--
	return fd
}

func (w *walker) pop() {
	if e := w.top(); e.fd >= 0 {
		sys.Close(e.fd)
		w.held--
	}
	w.stack = w.stack[:len(w.stack)-1]
	if w.low >= len(w.stack) {
		w.low = max(len(w.stack)-1, 1)
	}
}

// reset pops back to the root: an absolute symlink in InRoot mode.
func (w *walker) reset() {
	w.close()
	w.low = 1
}

// up is a run of n ".." (n at most the depth of the top entry): it pops n
// entries. When the entry it arrives at has had its fd released (past
// maxHeld), that directory is reopened as n' ".." of the lowest entry
// still held (n' at most maxDotDots), and must be the very directory released:
// the same device and inode. Otherwise a rename moved something since
// (the kernel's ".." may then even have passed above the root: what it
// reached is only fstat'ed and closed), and the lookup is run again from
// the start (EAGAIN). A run costs at most one reopen, whatever its length
// and however deep the walk is, so a lookup's cost stays linear in its
// name and links.
func (w *walker) up(n int) error {
	d := len(w.stack) - 1 - n // the entry arrived at; the root is held
	if to := &w.stack[d]; to.fd < 0 {
		// The held entries are stack[low:], the released ones stack[1:low].
		fd, err := sys.Openat(w.stack[w.low].fd, dotDots[:3*(w.low-d)-1], unix.O_PATH|unix.O_NOFOLLOW|unix.O_DIRECTORY, 0)
		if err != nil {
			return err
		}
		var st unix.Stat_t
		if err := w.step(); err != nil {
			sys.Close(fd)
			return err
		}
		if err := sys.Fstat(fd, &st); err != nil {
			sys.Close(fd)
			return err
		}
		if st.Dev != to.dev || st.Ino != to.ino {
			sys.Close(fd)
			return unix.EAGAIN
		}
		to.fd = fd
		w.held++
	}
	for len(w.stack) > d+1 {
		w.pop() // sets low to d once stack[low] is gone
	}
	return nil
}

// dotDots is the longest run of ".." up reopens a directory with: well
// within PATH_MAX.
var dotDots = strings.Repeat("../", maxDotDots)

const maxDotDots = 1024

// dotDotRun counts the ".." that follow in todo (the next component
// first) and may be taken in one run with the one just taken: at most
// the depth of the top entry, the run at most maxDotDots. An observer sees
// every ".." as its own step.
func (w *walker) dotDotRun(todo []string) int {
	if w.obs != nil {
		return 0
	}
	n, most := 0, min(len(w.stack)-2, maxDotDots-1)
	for n < most && n < len(todo) && todo[len(todo)-1-n] == ".." {
		n++
	}
	return n
}

// path joins the names on the stack: where the walk has arrived, relative
// to the root.
func (w *walker) path() string {
	if len(w.stack) == 1 {
		return "."
	}
	var b strings.Builder
	for i, e := range w.stack[1:] {
		if i > 0 {
			b.WriteByte('/')
		}
		b.WriteString(e.name)
	}
	return b.String()
}

// checkMount refuses fd under NoXDev when it lies on another mount than
// the root. Mount ids, not st_dev: bind mounts share st_dev, and btrfs
// subvolumes have their own without being mounts.
func (w *walker) checkMount(fd int) error {
	if w.r.flags&NoXDev == 0 {
		return nil
	}
	id, err := sys.MountID(fd)
	if err != nil {
		return err
	}
	if id != w.r.rootMnt {
		return ErrCrossDevice
	}
	return nil
}

// pushComponents pushes the components of p onto todo so that the first
// one comes out first.
func pushComponents(todo []string, p string) []string {
	// From the end, without splitting p into a slice of its own: a
	// link's text may hold a thousand components.
	for p != "" {
		i := strings.LastIndexByte(p, '/')
		if c := p[i+1:]; c != "" {
			todo = append(todo, c)
		}
		p = p[:max(i, 0)]
	}
	return todo
}

// walk resolves name. On success the final entry is on top of the stack,
// or, when o.create is set and only the final component is missing, the
// top is its parent and missing names it.
//
// Under NoXDev the walk stops at the first mount point it meets
// (ErrCrossDevice), as RESOLVE_NO_XDEV does: nothing beyond it is looked
// up, so a name that crosses and would then escape is a crossing.
func (w *walker) walk(name string, o walkOpts) (missing string, err error) {
	o.mustDir = o.mustDir || hasTrailingSlash(name)
	todo := pushComponents(nil, name)
	for len(todo) > 0 {
		comp := todo[len(todo)-1]
		todo = todo[:len(todo)-1]
		last := len(todo) == 0
		switch comp {
		case ".":
			continue
		case "..":
			if len(w.stack) == 1 {
				if err := w.note(StepDotDot, comp, "", todo, w.r.root, nil); err != nil {
					return "", err
				}
				if w.r.mode == Beneath {
					return "", ErrEscape
				}
				continue // InRoot: ".." at the root is the root
			}
			n := w.dotDotRun(todo)
			if err := w.up(1 + n); err != nil {
				return "", err
			}
			todo = todo[:len(todo)-n]
			if err := w.note(StepDotDot, comp, "", todo, w.top().fd, nil); err != nil {
				return "", err
			}
			continue
		}
		parent := w.top()
		if !last {
			// Most components before the last are plain directories, and
			// O_DIRECTORY says so without an fstat. A link or anything
			// else fails with ENOTDIR and takes the general path below.
			fd, err := sys.Openat(parent.fd, comp, unix.O_PATH|unix.O_NOFOLLOW|unix.O_DIRECTORY, 0)
			if err == nil {
				if err := w.checkMount(fd); err != nil {
					sys.Close(fd)
					return "", err
				}
				if err := w.push(entry{fd: fd, name: comp, mode: unix.S_IFDIR}); err != nil {
					return "", err
				}
				if err := w.note(StepEnter, comp, "", todo, fd, nil); err != nil {
					return "", err
				}
				continue
			}
			if err != unix.ENOTDIR {
				w.noteMissing(err, comp, todo)
				return "", err
			}
		}
		if last && o.direct && !o.mustDir {
			// One openat in the held parent, never following: what it
			// opens is this directory's own entry, inside the root.
			fd, err := sys.Openat(parent.fd, comp, o.flags|unix.O_NOFOLLOW, o.perm)
			if err == nil {
				w.opened = fd
				return "", nil
			}
			if err != unix.ELOOP && err != unix.ENOTDIR {
				return "", err
			}
		}
		fd, err := sys.OpenPath(parent.fd, comp)
		if err == unix.ENOENT && last && o.create {
			if o.mustDir {
				return "", unix.EISDIR // O_CREAT of "new/"
			}
			return comp, nil
		}
		if err != nil {
			w.noteMissing(err, comp, todo)
			return "", err
		}
		var st unix.Stat_t
		if err := sys.Fstat(fd, &st); err != nil {
			sys.Close(fd)
			return "", err
		}
		e := entry{fd: fd, name: comp, mode: st.Mode, dev: st.Dev, ino: st.Ino, uid: st.Uid}
		if st.Mode&unix.S_IFMT == unix.S_IFLNK {
			if last && !o.follow && !o.mustDir {
				// The operation acts on the link itself.
				return "", w.push(e)
			}
			target, err := w.readLink(e, parent, last)
			sys.Close(fd)
			if err != nil {
				return "", err
			}
			if err := w.note(StepLink, comp, target, todo, parent.fd, &st); err != nil {
				return "", err
			}
			if target == "" {
				return "", unix.ENOENT
			}
			if last && strings.HasSuffix(target, "/") {
				o.mustDir = true
			}
			if target[0] == '/' {
				if w.r.mode == Beneath {
					return "", ErrEscape
				}
				w.reset()
			}
			todo = pushComponents(todo, target)
			continue
		}
		if err := w.checkMount(fd); err != nil {
			sys.Close(fd)
			return "", err
		}
		if !last && st.Mode&unix.S_IFMT != unix.S_IFDIR {
			sys.Close(fd)
			return "", unix.ENOTDIR
		}
		if err := w.push(e); err != nil {
			return "", err
		}
		if err := w.note(StepEnter, comp, "", todo, fd, &st); err != nil {
			return "", err
		}
	}
	if o.mustDir && w.top().mode&unix.S_IFMT != unix.S_IFDIR {
		if o.create {
			// O_CREAT through a link whose text ends in a slash: the
			// kernel says EISDIR once the walk is done, whatever the
			// entry is (open_last_lookups in fs/namei.c).
			return "", unix.EISDIR
		}
		return "", unix.ENOTDIR
	}
	return "", nil
}

// readLink applies every check the kernel makes before following the link
// e found in parent, in the kernel's order, then returns its text.
func (w *walker) readLink(e entry, parent *entry, last bool) (string, error) {
	if w.hops++; w.hops > maxHops {
		return "", unix.ELOOP
	}
	if last && protectedSymlinks() {
		// fs.protected_symlinks: in a sticky world-writable directory, a
		// trailing link is followed only if it belongs to the follower
		// or to the directory's owner (may_follow_link in fs/namei.c).
		var pst unix.Stat_t
		if err := sys.Fstat(parent.fd, &pst); err != nil {
			return "", err
		}
		const sticky = unix.S_ISVTX | unix.S_IWOTH
		if pst.Mode&sticky == sticky && e.uid != pst.Uid && int(e.uid) != sys.Fsuid() {
			return "", unix.EACCES
		}
	}
	// As in the kernel's pick_link: the protected_symlinks refusal comes
	// first, then RESOLVE_NO_SYMLINKS and nosymfollow, then magic links.
	if w.r.flags&NoSymlinks != 0 {
		return "", ErrSymlink
	}
	var fs unix.Statfs_t
	if err := sys.Fstatfs(e.fd, &fs); err != nil {
		return "", err
	}
	if fs.Flags&stNoSymfollow != 0 {
		return "", unix.ELOOP
	}
	if fs.Type == unix.PROC_SUPER_MAGIC {
		// Magic links (/proc/<pid>/fd/N, exe, cwd, root, ns/*,
		// map_files/*, and the same under task/<tid>/) jump to whatever
		// the kernel says, not to their text; they are refused, decided
		// before their text is read. They all live in per-process
		// directories, whose inodes the kernel numbers from its shared
		// counter (proc_pid_make_inode), while procfs's root (inode 1)
		// and the directories registered with proc_mkdir (/proc/fs,
		// /proc/fs/xfs...; numbered from PROC_DYNAMIC_FIRST up) hold only
		// plain links (self, thread-self, mounts, net, fs/xfs/stat),
		// which are followed by their text as openat2 does.
		var pst unix.Stat_t
		if err := sys.Fstat(parent.fd, &pst); err != nil {
			return "", err
		}
		if !plainProcLinkDir(pst.Ino) {
			return "", unix.ELOOP
		}
	}
	return sys.Readlinkat(e.fd, "")
}

const (
	// stNoSymfollow is ST_NOSYMFOLLOW from <linux/statfs.h> (Linux 5.10+):
	// the mount refuses to follow symlinks.
	stNoSymfollow = 0x2000
	// procRootIno is PROC_ROOT_INO, the inode of procfs's root directory.
	procRootIno = 1
	// procDynamicFirst is PROC_DYNAMIC_FIRST (fs/proc/generic.c): the
	// first inode number of a directory or file registered in procfs
	// (proc_register), as opposed to a per-process entry.
	procDynamicFirst = 0xF0000000
)

// plainProcLinkDir reports whether a procfs directory with inode ino
// holds only plain links (followed by their text), not magic ones
// (refused with ELOOP): procfs's root and the directories registered
// with proc_mkdir are plain, every per-process directory is not (see
// walker.readLink).
func plainProcLinkDir(ino uint64) bool {
	return ino == procRootIno || ino >= procDynamicFirst
}

var (
	protectedOnce sync.Once
	protectedVal  bool
)

// protectedSymlinks reports fs.protected_symlinks, read once; unreadable
// counts as on, the safe default.
var protectedSymlinks = func() bool {
	protectedOnce.Do(func() {
		h, err := procfs.Get()
		var b []byte
		if err == nil {
			b, err = h.ReadFile("sys/fs/protected_symlinks")
		}
		protectedVal = err != nil || strings.TrimSpace(string(b)) != "0"
	})
	return protectedVal
}

// walkOpen is the walk backend's Open: it resolves name and opens its
// final entry. EAGAIN means the entry changed under it and the whole
// lookup should be run again (retrying).
// obs, if not nil, is shown every step (Engine.Observe).
func (r *Engine) walkOpen(name string, flags int, perm uint32, obs Observer) (int, error) {
	excl := flags&(unix.O_CREAT|unix.O_EXCL) == unix.O_CREAT|unix.O_EXCL
	o := walkOpts{
		follow: flags&unix.O_NOFOLLOW == 0 && !excl,
		create: flags&unix.O_CREAT != 0,
		// Not for O_PATH (O_NOFOLLOW would hand out a link), NoXDev
		// (the last component may be a mount point, to be refused
		// before O_TRUNC acts) or a trailing slash (a directory is
		// required, a link to one followed).
		// An observer must be shown the last entry before it is opened.
		direct: flags&unix.O_PATH == 0 && r.flags&NoXDev == 0 && !hasTrailingSlash(name) && obs == nil,
		flags:  flags,
		perm:   perm,
	}
	w := r.newWalker()
	defer w.close()
	w.obs = obs
	missing, err := w.walk(name, o)
	if err != nil {
		return -1, err
	}
	if w.opened >= 0 {
		return w.opened, nil
	}
	if missing != "" {
		// Create in the held parent; O_NOFOLLOW so a link planted since
		// the lookup is refused (ELOOP) rather than written through,
		// and then the lookup is run again to follow it with checks.
		fd, err := sys.Openat(w.top().fd, missing, flags|unix.O_NOFOLLOW, perm)
		if err == unix.ELOOP && flags&unix.O_EXCL == 0 {
			return -1, unix.EAGAIN
		}
		return fd, err
	}
	t := w.top()
	isDir := t.mode&unix.S_IFMT == unix.S_IFDIR
	isLink := t.mode&unix.S_IFMT == unix.S_IFLNK
	switch {
	case o.create && flags&unix.O_EXCL != 0:
		return -1, unix.EEXIST
	case flags&unix.O_DIRECTORY != 0 && !isDir && flags&unix.O_TMPFILE != unix.O_TMPFILE:
		return -1, unix.ENOTDIR
	case flags&unix.O_PATH != 0:
		if len(w.stack) == 1 {
			return sys.Openat(r.root, ".", unix.O_PATH, 0)
		}
		return w.detach(), nil
	case isLink:
		return -1, unix.ELOOP // O_NOFOLLOW on a final link
	case isDir:
		// A directory fd reopened through "." is the same directory
		// whatever has been renamed since.
		return sys.Openat(t.fd, ".", flags&^unix.O_NOFOLLOW, perm)
	}
	// Anything else is reopened by name in its held parent, O_NOFOLLOW,
	// and must still be the inode the walk judged.
	parent := w.stack[len(w.stack)-2]
	fd, err := sys.Openat(parent.fd, t.name, flags|unix.O_NOFOLLOW, perm)
	if err == unix.ELOOP || err == unix.ENOENT {
		return -1, unix.EAGAIN
	}
	if err != nil {
		return -1, err
	}
	var st unix.Stat_t
	if err := sys.Fstat(fd, &st); err != nil {
		sys.Close(fd)
		return -1, err
	}
	if st.Dev != t.dev || st.Ino != t.ino {
		sys.Close(fd)
		return -1, unix.EAGAIN
	}
	return fd, nil
}
