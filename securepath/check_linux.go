package securepath

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
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

// checkDir resolves path from "/" with the engine's walk, judging every
// step, and judges the target. It returns the checker, its top the
// target, and an O_PATH fd on the target, which the caller closes.
func checkDir(op, path string, p *Policy) (*checker, int, error) {
	c := newChecker(path, p)
	fd, err := c.walkFromRoot(path)
	if err != nil {
		return nil, -1, &fs.PathError{Op: op, Path: path, Err: err}
	}
	c.judgeTarget(c.top(), "target")
	c.noteGroup(c.top())
	return c, fd, nil
}

// walkFromRoot judges "/" and walks path from it. The engine runs in
// InRoot mode on "/": ".." there stays there and absolute links start
// again from it, as for any lookup from "/".
func (c *checker) walkFromRoot(path string) (int, error) {
	root, err := sys.Openat(unix.AT_FDCWD, "/", unix.O_PATH|unix.O_DIRECTORY|unix.O_NOFOLLOW, 0)
	if err != nil {
		return -1, err
	}
	defer sys.Close(root)
	var st unix.Stat_t
	if err := sys.Fstat(root, &st); err != nil {
		return -1, err
	}
	if err := c.push(root, "/", &st); err != nil {
		return -1, err
	}
	eng, err := resolve.New(root, resolve.InRoot, 0, resolve.Walk)
	if err != nil {
		return -1, err
	}
	c.begin()
	return eng.Observe(path, unix.O_PATH|unix.O_DIRECTORY, c.observer)
}

func check(path string, p *Policy) (*Report, error) {
	c, fd, err := checkDir("check", path, p)
	if err != nil {
		return nil, err
	}
	sys.Close(fd)
	return c.rep, nil
}

// rootOn returns a Root on the directory fd (owned, and closed here):
// confine.NewRoot duplicates the descriptor, so the Root is the directory
// that was judged, never a second lookup by name.
func rootOn(path string, fd int, opts []confine.Option) (*confine.Root, error) {
	f := os.NewFile(uintptr(fd), path)
	defer f.Close()
	return confine.NewRoot(f, opts...)
}

func openDir(path string, p *Policy, opts []confine.Option) (*confine.Root, error) {
	c, fd, err := checkDir("opendir", path, p)
	if err != nil {
		return nil, err
	}
	if err := c.rep.Err(); err != nil {
		sys.Close(fd)
		return nil, err
	}
	if afterCheck != nil {
		afterCheck(path)
	}
	return rootOn(path, fd, opts)
}

// errStop stops Open's walk at a file in a tree found insecure, before
// the file is opened; Open returns the report's error instead.
var errStop = errors.New("securepath: insecure")

func open(dir, unsafePath string, p *Policy, opts []confine.Option) (*os.File, error) {
	c, fd, err := checkDir("open", dir, p)
	if err != nil {
		return nil, err
	}
	if err := c.rep.Err(); err != nil {
		sys.Close(fd)
		return nil, err
	}
	root, err := rootOn(dir, fd, opts)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	fail := func(err error) (*os.File, error) {
		return nil, &fs.PathError{Op: "open", Path: unsafePath, Err: err}
	}
	// The walk continues below dir with the Root's own Engine: its mode
	// and flags are the options the caller gave, and dir is the root.
	eng := resolve.EngineOf(root)
	if eng == nil {
		return fail(errors.ErrUnsupported)
	}
	slash := len(unsafePath) > 1 && unsafePath[len(unsafePath)-1] == '/'
	c.file = func(name string, st *unix.Stat_t, holder *dirItem) error {
		// The directory that holds the file is the one worked in.
		c.judgeTarget(holder, "directory holding the file")
		switch {
		case slash:
			return nil // the walk refuses it: ENOTDIR
		case st.Mode&unix.S_IFMT != unix.S_IFREG:
			return ErrNotRegular // never opened: a FIFO would block
		case c.rep.Err() != nil:
			return errStop
		}
		return nil
	}
	c.begin()
	// The walk opens the file it judged, on its held parent, and checks
	// that it is the very inode judged: one resolution.
	nfd, err := eng.Observe(unsafePath, unix.O_RDONLY, c.observer)
	if err == errStop {
		return nil, c.rep.Err()
	}
	if err != nil {
		return fail(err)
	}
	// Named as the Root names what it opens.
	f := os.NewFile(uintptr(nfd), root.Name()+string(os.PathSeparator)+unsafePath)
	if !c.sawFile {
		c.judgeTarget(c.top(), "directory opened")
	}
	if err := c.rep.Err(); err != nil {
		f.Close()
		return nil, err
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
