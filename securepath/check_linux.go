package securepath

import (
	"fmt"
	"io/fs"
	"os"
	"runtime"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/pathguard/pathguard/confine"
	"github.com/pathguard/pathguard/internal/resolve"
	"github.com/pathguard/pathguard/internal/sys"
)

// errPlatform is nil where securepath can keep its promises.
var errPlatform error

// afterCheck, when set by a test, runs between OpenDir's verdict and the
// making of its Root: the window a re-open by name would lose.
var afterCheck func(path string)

// checkDir walks from "/" to path and judges the target. The checker is
// returned open, its top the target, for the caller to close.
func checkDir(op, path string, p *Policy) (*checker, error) {
	c := newChecker(path, p)
	err := c.start()
	if err == nil {
		_, _, _, err = c.walk(path, false)
	}
	if err != nil {
		c.close()
		return nil, &fs.PathError{Op: op, Path: path, Err: err}
	}
	c.judgeTarget(c.top(), "target")
	c.noteGroup(c.top())
	return c, nil
}

func check(path string, p *Policy) (*Report, error) {
	c, err := checkDir("check", path, p)
	if err != nil {
		return nil, err
	}
	c.close()
	return c.rep, nil
}

// rootOn returns a Root on the directory fd d (still owned by the caller):
// confine.NewRoot duplicates the descriptor, so the Root is the directory
// that was judged, never a second lookup by name.
func rootOn(op, path string, fd int, opts []confine.Option) (*confine.Root, error) {
	nfd, err := sys.Dup(fd)
	if err != nil {
		return nil, &fs.PathError{Op: op, Path: path, Err: err}
	}
	f := os.NewFile(uintptr(nfd), path)
	defer f.Close()
	return confine.NewRoot(f, opts...)
}

func openDir(path string, p *Policy, opts []confine.Option) (*confine.Root, error) {
	c, err := checkDir("opendir", path, p)
	if err != nil {
		return nil, err
	}
	defer c.close()
	if err := c.rep.Err(); err != nil {
		return nil, err
	}
	if afterCheck != nil {
		afterCheck(path)
	}
	return rootOn("opendir", path, c.top().fd, opts)
}

func open(dir, unsafePath string, p *Policy, opts []confine.Option) (*os.File, error) {
	c, err := checkDir("open", dir, p)
	if err != nil {
		return nil, err
	}
	defer c.close()
	if err := c.rep.Err(); err != nil {
		return nil, err
	}
	root, err := rootOn("open", dir, c.top().fd, opts)
	if err != nil {
		return nil, err
	}
	defer root.Close()

	// Continue the walk below dir, with dir as the root. The options are
	// opaque here, so the mode is learned from the Root itself: only an
	// InRoot Root resolves an absolute name.
	_, err = root.Resolve("/")
	c.inRoot = err == nil
	c.base = len(c.stack) - 1
	c.hops = 0
	fail := func(err error) (*os.File, error) {
		return nil, &fs.PathError{Op: "open", Path: unsafePath, Err: err}
	}
	if unsafePath[0] == '/' && !c.inRoot {
		return fail(resolve.ErrEscape)
	}
	fd, st, _, err := c.walk(unsafePath, true)
	if err != nil {
		return fail(err)
	}
	if fd >= 0 {
		sys.Close(fd)
		// The directory that holds the file is the one worked in.
		c.judgeTarget(c.top(), "directory holding the file")
		if len(unsafePath) > 1 && unsafePath[len(unsafePath)-1] == '/' {
			return fail(unix.ENOTDIR)
		}
		if st.Mode&unix.S_IFMT != unix.S_IFREG {
			return fail(ErrNotRegular)
		}
	} else {
		c.judgeTarget(c.top(), "directory opened")
		st = &c.top().st
	}
	if err := c.rep.Err(); err != nil {
		return nil, err
	}

	// Every directory on the way is secure, so nobody untrusted can have
	// changed the names since the walk. The file is opened through the
	// Root, with the caller's options, and must be the one the walk
	// reached; anything else is a change by a trusted user mid-call.
	f, err := root.OpenFile(unsafePath, os.O_RDONLY, 0)
	if err != nil {
		return nil, err
	}
	var got unix.Stat_t
	err = sys.Fstat(int(f.Fd()), &got)
	runtime.KeepAlive(f)
	if err != nil {
		f.Close()
		return fail(err)
	}
	if got.Dev != st.Dev || got.Ino != st.Ino {
		f.Close()
		return fail(resolve.ErrRetry)
	}
	return f, nil
}

// writable judges the file open as fd on its own, as push judges each
// directory: its owner, then its mode, group and access ACL.
func writable(fd int, p *Policy) (string, error) {
	var st unix.Stat_t
	if err := sys.Fstat(fd, &st); err != nil {
		return "", err
	}
	if st.Mode&unix.S_IFMT == unix.S_IFLNK {
		return "", nil
	}
	acl, err := hasXattr(fd, "system.posix_acl_access")
	if err != nil {
		return "", err
	}
	var why []string
	if !p.trustedUID(st.Uid) {
		why = append(why, fmt.Sprintf("owned by uid %d, which is not trusted", st.Uid))
	}
	if open := (&checker{pol: p}).writableBy(&st, acl); open != "" {
		if st.Mode&unix.S_IFMT == unix.S_IFDIR && st.Mode&unix.S_ISVTX != 0 {
			open = "sticky but " + open
		}
		why = append(why, open)
	}
	return strings.Join(why, ", "), nil
}

// noteGroup names a setgid directory whose group is neither trusted nor
// the caller's: files created there take that group, so a mode with group
// bits would give them to its members. Others cannot write the directory
// for that, so the verdict stands; WriteFile gives its files the caller's
// own group.
func (c *checker) noteGroup(dir *dirItem) {
	gid := dir.st.Gid
	if dir.st.Mode&unix.S_ISGID == 0 || c.pol.trustedGID(gid) || int(gid) == os.Getegid() {
		return
	}
	c.note(dir.idx, fmt.Sprintf("setgid with group %d, which is not trusted: files created here get that group unless their creator changes it", gid))
}
