package securepath

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/pathguard/pathguard/internal/resolve"
	"github.com/pathguard/pathguard/internal/sys"
)

// The judge does not walk: internal/resolve's walk does, on held O_PATH
// fds, one name without a slash per step, with every rule of the engine
// (the hop limit, magic links, fs.protected_symlinks, nosymfollow mounts,
// and a Root's mode and NoXDev). The judge is its observer, shown each
// step before the walk takes the next:
//
//   - a directory entered (its fd and stat): the directory holding it is
//     judged for that entry, then the new one on its own (owner, group,
//     mode, ACL), and it goes on the judge's stack, which mirrors the
//     walk's by depth;
//   - a link met (the directory holding it, the link's stat): the
//     directory is judged for the link;
//   - a "..": the stack is popped back to the walk's depth;
//   - a file reached (Open only; Check and OpenDir want a directory).
//
// A sticky directory that others can write is acceptable for an entry
// only if a trusted user owns it; the target is judged once more at the
// end, where sticky does not help.

type dirItem struct {
	path string
	idx  int // the directory's Entry in the Report
	st   unix.Stat_t
	// open says why others can write the directory ("" if they cannot):
	// the judgement of its mode, group and access ACL.
	open string
}

type devIno struct{ dev, ino uint64 }

type checker struct {
	pol  *Policy
	rep  *Report
	seen map[devIno]int
	// stack mirrors the walk's stack: stack[base] is the walk's root ("/"
	// for Check, dir for Open), stack[base+d] the entry at depth d.
	stack []dirItem
	base  int

	// file, set by Open, judges a file the walk reaches (its name, its
	// stat, the directory holding it); without it a file is ENOTDIR.
	file func(name string, st *unix.Stat_t, dir *dirItem) error
	// sawFile says the last attempt ended on a file.
	sawFile bool

	// saved is the judgement before the walk began, restored for each
	// attempt of it (a lookup that lost a race is run again).
	saved struct {
		entries []Entry
		seen    map[devIno]int
		stack   []dirItem
	}
}

func newChecker(path string, p *Policy) *checker {
	return &checker{pol: p, rep: &Report{Path: path}, seen: map[devIno]int{}}
}

func (c *checker) top() *dirItem { return &c.stack[len(c.stack)-1] }

// begin makes the top of the stack the root of the walk about to start
// and remembers the judgement so far.
func (c *checker) begin() {
	c.base = len(c.stack) - 1
	c.saved.entries = slices.Clone(c.rep.Entries)
	c.saved.seen = maps.Clone(c.seen)
	c.saved.stack = slices.Clone(c.stack)
}

// observer returns the judge for one attempt of the walk, the judgement
// reset to what it was at begin.
func (c *checker) observer() resolve.Observer {
	c.rep.Entries = slices.Clone(c.saved.entries)
	c.seen = maps.Clone(c.saved.seen)
	c.stack = slices.Clone(c.saved.stack)
	c.sawFile = false
	return c.observe
}

// observe judges one step of the walk.
func (c *checker) observe(s resolve.Step, at resolve.At) error {
	n := c.base + at.Depth // the index of the walk's top after the step
	switch s.Kind {
	case resolve.StepDotDot:
		c.stack = c.stack[:n+1]
	case resolve.StepLink:
		c.stack = c.stack[:n+1]
		c.passThrough(&c.stack[n], s.Name, at.Stat.Uid, "symlink")
		if strings.HasPrefix(s.Target, "/") {
			// InRoot: the walk starts again at its root (in Beneath
			// mode it stops with ErrEscape).
			c.stack = c.stack[:c.base+1]
		}
	case resolve.StepEnter:
		c.stack = c.stack[:n]
		parent := &c.stack[n-1]
		if at.Stat.Mode&unix.S_IFMT == unix.S_IFDIR {
			c.passThrough(parent, s.Name, at.Stat.Uid, "directory")
			return c.push(at.Fd, joinPath(parent.path, s.Name), at.Stat)
		}
		if c.file == nil {
			return unix.ENOTDIR
		}
		c.passThrough(parent, s.Name, at.Stat.Uid, "file")
		c.sawFile = true
		return c.file(s.Name, at.Stat, parent)
	}
	return nil
}

// push judges the directory fd (the walk's, only read here) on its own
// and puts it on the stack under path, the name the report gives it.
func (c *checker) push(fd int, path string, st *unix.Stat_t) error {
	d := dirItem{path: path, st: *st}
	acl, def, err := readACLs(fd)
	if err != nil {
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

// joinPath is dir/name for the report.
func joinPath(dir, name string) string {
	if strings.HasSuffix(dir, "/") {
		return dir + name
	}
	return dir + "/" + name
}
