package securepath

import (
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/pathguard/pathguard/internal/procfs"
	"github.com/pathguard/pathguard/internal/resolve"
	"github.com/pathguard/pathguard/internal/sys"
)

// The checker is a state machine over two stacks, like the walk backend
// of internal/resolve, with a judge at every step:
//
//   - todo holds the components still to walk, the next one last, so a
//     symlink's text is expanded by pushing its components;
//   - stack holds the directories walked so far, each an O_PATH fd with
//     its path and the index of its Entry in the Report. ".." pops it, so
//     ".." is never handed to the kernel and always returns to the very
//     directory the walk came from.
//
// Every step opens exactly one name, never containing a slash, relative
// to the fd on top of the stack, with O_PATH|O_NOFOLLOW, and fstats the
// result. Before the walk moves into an entry (a directory or a symlink),
// the directory holding it is judged for that entry: a sticky directory
// that others can write is acceptable only if the entry is owned by a
// trusted user. A directory is judged on its own (owner, group, mode,
// ACL) when it is first pushed; the target is judged once more at the end,
// where sticky does not help.
//
// The same machine serves Check and OpenDir (from "/" to the target) and
// Open (continuing from the target, dir, down to the file, with dir as
// the root: ".." above it and absolute links are escapes unless InRoot).

// maxHops is the kernel's MAXSYMLINKS: the 41st link is ELOOP.
const maxHops = 40

// maxDepth bounds the directory fds the checker holds at once: PATH_MAX/2
// is the deepest a path the kernel accepts can go, and links cannot make
// a useful path deeper. Beyond it the walk fails with ENAMETOOLONG
// instead of exhausting RLIMIT_NOFILE.
const maxDepth = 2048

type dirItem struct {
	fd   int
	path string
	idx  int // the directory's Entry in the Report
	st   unix.Stat_t
	// open says why others can write the directory ("" if they cannot):
	// the judgement of its mode, group and access ACL.
	open string
}

type devIno struct{ dev, ino uint64 }

type checker struct {
	pol   *Policy
	rep   *Report
	seen  map[devIno]int
	stack []dirItem
	hops  int

	// base is the stack index of the root of the current phase: 0 ("/")
	// for Check, the index of dir for Open. inRoot is Open's InRoot mode.
	base   int
	inRoot bool
}

func newChecker(path string, p *Policy) *checker {
	return &checker{pol: p, rep: &Report{Path: path}, seen: map[devIno]int{}}
}

// close releases every fd the checker holds.
func (c *checker) close() {
	for _, d := range c.stack {
		sys.Close(d.fd)
	}
	c.stack = nil
}

func (c *checker) top() *dirItem { return &c.stack[len(c.stack)-1] }

// start opens "/" and pushes it.
func (c *checker) start() error {
	fd, err := sys.Openat(unix.AT_FDCWD, "/", unix.O_PATH|unix.O_DIRECTORY|unix.O_NOFOLLOW, 0)
	if err != nil {
		return err
	}
	var st unix.Stat_t
	if err := sys.Fstat(fd, &st); err != nil {
		sys.Close(fd)
		return err
	}
	return c.push(fd, "/", &st)
}

// push judges the directory fd (owned from now on by the checker) on its
// own and puts it on the stack under path, the name the report gives it.
func (c *checker) push(fd int, path string, st *unix.Stat_t) error {
	if len(c.stack) >= maxDepth {
		sys.Close(fd)
		return unix.ENAMETOOLONG
	}
	d := dirItem{fd: fd, path: path, st: *st}
	acl, def, err := readACLs(fd)
	if err != nil {
		sys.Close(fd)
		return err
	}
	d.open = c.writableBy(st, acl)
	key := devIno{st.Dev, st.Ino}
	idx, ok := c.seen[key]
	if !ok {
		idx = len(c.rep.Entries)
		c.seen[key] = idx
		e := Entry{
			Path: path, UID: int(st.Uid), GID: int(st.Gid),
			Mode: sys.FileMode(st.Mode), Verdict: Secure, DefaultACL: def,
		}
		c.rep.Entries = append(c.rep.Entries, e)
		if def {
			c.note(idx, "has a default ACL: files created here may be more accessible than their mode says")
		}
		if !c.pol.trustedUID(st.Uid) {
			c.fail(idx, fmt.Sprintf("owned by uid %d, which is not trusted", st.Uid))
		}
		if d.open != "" && st.Mode&unix.S_ISVTX == 0 {
			c.fail(idx, d.open)
		}
	}
	d.idx = idx
	c.stack = append(c.stack, d)
	return nil
}

// writableBy says why someone untrusted can write a directory with st and
// an access ACL (acl), or "" if nobody can.
func (c *checker) writableBy(st *unix.Stat_t, acl bool) string {
	var why []string
	if st.Mode&unix.S_IWOTH != 0 {
		why = append(why, "writable by others")
	}
	if st.Mode&unix.S_IWGRP != 0 && !c.pol.trustedGID(st.Gid) {
		why = append(why, fmt.Sprintf("writable by group %d, which is not trusted", st.Gid))
	}
	if acl {
		// With an access ACL the group bits are only the mask: named
		// users and groups may write whatever the owner and group say.
		why = append(why, "has a POSIX access ACL")
	}
	return strings.Join(why, ", ")
}

// fail marks an entry insecure, keeping every reason given.
func (c *checker) fail(idx int, why string) {
	e := &c.rep.Entries[idx]
	if e.Verdict == Secure {
		e.Verdict = Insecure
		if e.Reason != "" {
			e.Reason = why + "; " + e.Reason
			return
		}
	}
	c.note(idx, why)
}

// note adds a reason that does not change the verdict.
func (c *checker) note(idx int, why string) {
	e := &c.rep.Entries[idx]
	if strings.Contains(e.Reason, why) {
		return
	}
	if e.Reason != "" {
		e.Reason += "; "
	}
	e.Reason += why
}

// passThrough judges dir for the entry name (owned by uid) that the walk
// moves into: in a sticky directory others can write, only an entry owned
// by a trusted user cannot be removed or replaced by them.
func (c *checker) passThrough(dir *dirItem, name string, uid uint32, what string) {
	if dir.open == "" || c.pol.trustedUID(uid) {
		return
	}
	c.fail(dir.idx, fmt.Sprintf("sticky and %s, and the %s %q in it is owned by uid %d, which is not trusted", dir.open, what, name, uid))
}

// judgeTarget applies the rule for the directory the caller works in:
// nobody untrusted may write it, sticky or not.
func (c *checker) judgeTarget(dir *dirItem, role string) {
	// A directory others can write that is not sticky failed already
	// when it was pushed.
	if dir.open != "" && dir.st.Mode&unix.S_ISVTX != 0 {
		c.fail(dir.idx, fmt.Sprintf("sticky but %s, and it is the %s (sticky does not help there)", dir.open, role))
	}
}

// pushComponents pushes the components of p onto todo so that the first
// one comes out first.
func pushComponents(todo []string, p string) []string {
	parts := strings.Split(p, "/")
	for i := len(parts) - 1; i >= 0; i-- {
		if parts[i] != "" && parts[i] != "." {
			todo = append(todo, parts[i])
		}
	}
	return todo
}

// joinPath is dir/name for the report.
func joinPath(dir, name string) string {
	if strings.HasSuffix(dir, "/") {
		return dir + name
	}
	return dir + "/" + name
}

// walk walks name from the top of the stack. Directories are pushed. When
// a non-directory is reached as the last component, allowFile decides:
// with it, walk returns its O_PATH fd, its stat and name (the stack's top
// is its directory); without it, ENOTDIR. Otherwise walk returns -1 and
// the target is the top of the stack.
func (c *checker) walk(name string, allowFile bool) (int, *unix.Stat_t, string, error) {
	todo := pushComponents(nil, name)
	for len(todo) > 0 {
		comp := todo[len(todo)-1]
		todo = todo[:len(todo)-1]
		last := len(todo) == 0
		if comp == ".." {
			if len(c.stack)-1 == c.base {
				if c.base > 0 && !c.inRoot {
					return -1, nil, "", resolve.ErrEscape
				}
				continue // ".." at "/", or at an InRoot root, stays there
			}
			sys.Close(c.top().fd)
			c.stack = c.stack[:len(c.stack)-1]
			continue
		}
		if len(comp) > 255 {
			return -1, nil, "", resolve.ErrInvalid
		}
		parent := c.top()
		fd, err := sys.OpenPath(parent.fd, comp)
		if err != nil {
			return -1, nil, "", err
		}
		var st unix.Stat_t
		if err := sys.Fstat(fd, &st); err != nil {
			sys.Close(fd)
			return -1, nil, "", err
		}
		switch st.Mode & unix.S_IFMT {
		case unix.S_IFLNK:
			c.passThrough(parent, comp, st.Uid, "symlink")
			target, err := c.readLink(fd, parent)
			sys.Close(fd)
			if err != nil {
				return -1, nil, "", err
			}
			if target[0] == '/' {
				if c.base > 0 && !c.inRoot {
					return -1, nil, "", resolve.ErrEscape
				}
				for len(c.stack)-1 > c.base {
					sys.Close(c.top().fd)
					c.stack = c.stack[:len(c.stack)-1]
				}
			}
			todo = pushComponents(todo, target)
		case unix.S_IFDIR:
			c.passThrough(parent, comp, st.Uid, "directory")
			if err := c.push(fd, joinPath(parent.path, comp), &st); err != nil {
				return -1, nil, "", err
			}
		default:
			if !last || !allowFile {
				sys.Close(fd)
				return -1, nil, "", unix.ENOTDIR
			}
			c.passThrough(parent, comp, st.Uid, "file")
			return fd, &st, comp, nil
		}
	}
	return -1, nil, "", nil
}

// readLink checks a link before its text is followed: the hop count, and
// procfs magic links, which jump to whatever the kernel says rather than
// to their text: a procfs link outside the directories that hold only
// plain links (resolve.PlainProcLinkDir) is ELOOP, decided before its
// text is read, as the resolve walk does.
func (c *checker) readLink(fd int, parent *dirItem) (string, error) {
	if c.hops++; c.hops > maxHops {
		return "", unix.ELOOP
	}
	var sfs unix.Statfs_t
	if err := sys.Fstatfs(fd, &sfs); err != nil {
		return "", err
	}
	if sfs.Type == unix.PROC_SUPER_MAGIC && !resolve.PlainProcLinkDir(parent.st.Ino) {
		return "", unix.ELOOP
	}
	target, err := sys.Readlinkat(fd, "")
	if err != nil {
		return "", err
	}
	if target == "" {
		return "", unix.ENOENT
	}
	return target, nil
}

// readACLs reports whether the directory fd (an O_PATH fd) carries a POSIX
// access ACL and a default ACL.
//
// fgetxattr refuses O_PATH fds (EBADF, up to at least Linux 6.18), and
// opening the directory O_RDONLY to get a readable fd needs read
// permission on it, which a caller may lack on an ancestor it can still
// search (a 0711 directory). getxattr(2) on /proc/self/fd/N needs neither:
// the magic link leads to the very inode the fd holds, with no lookup by
// the directory's own name, and reading system.posix_acl_* needs no
// permission on the inode. So: fgetxattr first (should a kernel accept
// O_PATH fds), then /proc/self/fd/N on a /proc checked once to be procfs.
// Without a usable /proc the answer is an error, never "no ACL".
func readACLs(fd int) (access, def bool, err error) {
	if access, err = hasXattr(fd, "system.posix_acl_access"); err != nil {
		return false, false, err
	}
	if def, err = hasXattr(fd, "system.posix_acl_default"); err != nil {
		return false, false, err
	}
	return access, def, nil
}

func hasXattr(fd int, attr string) (bool, error) {
	var buf [1]byte
	_, err := sys.Fgetxattr(fd, attr, buf[:0])
	if err == unix.EBADF {
		err = procXattr(fd, attr)
	}
	switch err {
	case nil, unix.ERANGE:
		return true, nil
	case unix.ENODATA, unix.EOPNOTSUPP:
		// No such attribute, or a file system without xattrs or ACLs.
		return false, nil
	}
	return false, err
}

// procXattr reads attribute attr of the inode fd holds through its
// /proc/self/fd entry on the process's one procfs handle: getxattrat(2)
// relative to that handle's fd directory (Linux 6.13+), so nothing
// mounted over /proc/self/fd can answer instead. Older kernels have only
// getxattr(2), which takes a path: /proc/self/fd/N by name, once the
// handle has been verified.
func procXattr(fd int, attr string) error {
	dir, err := procSelfFd()
	if err != nil {
		return err
	}
	defer sys.Close(dir)
	_, err = sys.Getxattrat(dir, strconv.Itoa(fd), 0, attr, nil)
	if err == unix.ENOSYS {
		_, err = sys.Getxattr("/proc/self/fd/"+strconv.Itoa(fd), attr, nil)
	}
	return err
}

// procSelfFd opens /proc/self/fd on the process's one procfs handle,
// verified and hardened against overmounts.
func procSelfFd() (int, error) {
	h, err := procfs.Get()
	if err != nil {
		return -1, err
	}
	return h.SelfFd()
}
