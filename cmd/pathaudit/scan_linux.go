package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"runtime"
	"slices"
	"time"

	"golang.org/x/sys/unix"

	"github.com/pathguard/pathguard/internal/resolve"
	"github.com/pathguard/pathguard/internal/sys"
	"github.com/pathguard/pathguard/securepath"
)

// maxScanDepth bounds the directory fds the scan holds at once (one per
// level): deeper directories are listed as errors, not descended, so a
// planted tree cannot exhaust RLIMIT_NOFILE.
const maxScanDepth = 1024

// scanBackend is the backend that resolves links: Auto, but tests run
// every case under both.
var scanBackend = resolve.Auto

// statxMask is what the scan asks of every entry: the basic fields and
// the mount id (STATX_MNT_ID, Linux 5.8+; older kernels leave it out of
// stx.Mask and the scan falls back to sys.MountID for directories).
const statxMask = unix.STATX_BASIC_STATS | unix.STATX_MNT_ID

// scanner walks a tree on held descriptors. Each directory is opened
// O_RDONLY|O_DIRECTORY|O_NOFOLLOW relative to its parent's fd, read with
// getdents, and each entry examined with statx(AT_SYMLINK_NOFOLLOW)
// relative to it: no path string is ever resolved by the kernel but one
// component, and no link is followed. Links are judged by the resolution
// engine on the root fd, which is where confine would take them.
type scanner struct {
	rep      *scanReport
	pol      *securepath.Policy
	res      *resolve.Engine
	buf      []byte
	progress io.Writer
	next     time.Time // when to draw the progress line again
}

// scanTree fills rep with what the tree under rep.Root holds; progress,
// when not nil, gets a progress line now and then.
func scanTree(rep *scanReport, progress io.Writer) {
	fd, err := sys.Openat(unix.AT_FDCWD, rep.Root, unix.O_RDONLY|unix.O_DIRECTORY, 0)
	if err != nil {
		rep.Error = (&fs.PathError{Op: "open", Path: rep.Root, Err: err}).Error()
		rep.ErrorKind = errorKind(err)
		return
	}
	defer sys.Close(fd)
	res, err := resolve.New(fd, resolve.Beneath, 0, scanBackend)
	if err != nil {
		rep.Error = (&fs.PathError{Op: "open", Path: rep.Root, Err: err}).Error()
		rep.ErrorKind = errorKind(err)
		return
	}
	s := &scanner{
		rep:      rep,
		pol:      &securepath.Policy{TrustedUIDs: rep.TrustedUIDs, TrustedGIDs: rep.TrustedGIDs},
		res:      res,
		buf:      make([]byte, 64<<10),
		progress: progress,
	}
	var stx unix.Statx_t
	if err := sys.Statx(fd, "", unix.AT_EMPTY_PATH, statxMask, &stx); err != nil {
		s.fail(".", err)
		return
	}
	mnt, err := mountID(fd, &stx)
	if err != nil {
		s.fail(".", err)
		return
	}
	rep.Scanned++
	s.judge(fd, ".", &stx)
	s.dir(fd, "", mnt, 0)
	if progress != nil {
		fmt.Fprint(progress, "\r\x1b[K")
	}
}

// mountID is the mount id statx gave, or where the kernel is too old to
// give it, the one sys.MountID finds for fd.
func mountID(fd int, stx *unix.Statx_t) (uint64, error) {
	if stx.Mask&unix.STATX_MNT_ID != 0 {
		return stx.Mnt_id, nil
	}
	return sys.MountID(fd)
}

func (s *scanner) add(kind, path, detail string, stx *unix.Statx_t) {
	s.rep.Findings = append(s.rep.Findings, scanFinding{
		Kind: kind, Path: path, Detail: detail,
		Mode: sys.FileMode(uint32(stx.Mode)).String(),
		UID:  int(stx.Uid), GID: int(stx.Gid),
	})
}

func (s *scanner) fail(path string, err error) {
	s.rep.Errors = append(s.rep.Errors, scanError{Path: path, Error: err.Error(), ErrorKind: errorKind(err)})
}

// names reads every name in the directory open as fd, sorted, so the
// report does not depend on the file system's order.
func (s *scanner) names(fd int) ([]string, error) {
	var names []string
	for {
		n, err := sys.Getdents(fd, s.buf)
		if err != nil {
			return nil, err
		}
		if n <= 0 {
			break
		}
		for b := s.buf[:n]; len(b) > 0; {
			var consumed int
			consumed, _, names = unix.ParseDirent(b, -1, names)
			b = b[consumed:]
		}
	}
	slices.Sort(names)
	return names, nil
}

// dir scans the directory open as fd (owned by the caller), whose path
// relative to the root is rel ("" for the root) and whose mount id is mnt.
func (s *scanner) dir(fd int, rel string, mnt uint64, depth int) {
	names, err := s.names(fd)
	if err != nil {
		s.fail(orDot(rel), err)
		return
	}
	// Links in a procfs directory other than procfs's root are magic
	// links (fd/N, exe, cwd, ns/...): the rule of the resolution engine.
	var sfs unix.Statfs_t
	var st unix.Stat_t
	if err := sys.Fstatfs(fd, &sfs); err != nil {
		s.fail(orDot(rel), err)
		return
	}
	if err := sys.Fstat(fd, &st); err != nil {
		s.fail(orDot(rel), err)
		return
	}
	magic := sfs.Type == unix.PROC_SUPER_MAGIC && st.Ino != 1

	for _, name := range names {
		path := name
		if rel != "" {
			path = rel + "/" + name
		}
		s.tick(path)
		var stx unix.Statx_t
		err := sys.Statx(fd, name, unix.AT_SYMLINK_NOFOLLOW|unix.AT_NO_AUTOMOUNT, statxMask, &stx)
		if err == unix.ENOENT {
			continue // removed since the directory was read
		}
		if err != nil {
			s.fail(path, err)
			continue
		}
		s.rep.Scanned++
		switch uint32(stx.Mode) & unix.S_IFMT {
		case unix.S_IFLNK:
			s.link(fd, name, path, magic, &stx)
		case unix.S_IFDIR:
			s.subdir(fd, name, path, mnt, depth, &stx)
		default:
			s.file(fd, name, path, &stx)
		}
	}
}

// tick counts an entry and, on a terminal, redraws the progress line at
// most every 100 ms.
func (s *scanner) tick(path string) {
	if s.progress == nil {
		return
	}
	if now := time.Now(); now.After(s.next) {
		s.next = now.Add(100 * time.Millisecond)
		fmt.Fprintf(s.progress, "\r\x1b[K%d entries, %d findings: %s", s.rep.Scanned, len(s.rep.Findings), show(truncate(path, 60)))
	}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "..." + s[len(s)-n:]
}

func orDot(rel string) string {
	if rel == "" {
		return "."
	}
	return rel
}

// link judges the symlink name in the directory fd: a magic link is
// never resolved; any other is resolved by the engine from the root, as
// confine.Root would resolve it, and is an escape, dangling, or fine.
func (s *scanner) link(dirfd int, name, path string, magic bool, stx *unix.Statx_t) {
	target, err := sys.Readlinkat(dirfd, name)
	if err != nil {
		if err != unix.ENOENT {
			s.fail(path, err)
		}
		return
	}
	at := func(kind, detail string) {
		s.add(kind, path, detail, stx)
		s.rep.Findings[len(s.rep.Findings)-1].Target = target
	}
	if magic {
		at(kindMagicLink, fmt.Sprintf("procfs magic link -> %s", target))
		return
	}
	fd, err := s.res.Open(path, unix.O_PATH, 0)
	if err == nil {
		sys.Close(fd)
		return
	}
	switch {
	case errors.Is(err, resolve.ErrEscape):
		how := "leads out of ROOT"
		if target != "" && target[0] == '/' {
			how = "absolute target, outside ROOT's own names"
		}
		at(kindEscape, fmt.Sprintf("-> %s: %s", target, how))
	case errors.Is(err, unix.ENOENT):
		at(kindDangling, fmt.Sprintf("-> %s: target does not exist", target))
	case errors.Is(err, unix.ENOTDIR):
		at(kindDangling, fmt.Sprintf("-> %s: a component of the target is not a directory", target))
	case errors.Is(err, unix.ELOOP):
		at(kindDangling, fmt.Sprintf("-> %s: too many links (a loop), or a magic link on the way", target))
	default:
		s.fail(path, err)
	}
}

// subdir examines the directory name in the directory fd and scans it.
func (s *scanner) subdir(dirfd int, name, path string, mnt uint64, depth int, stx *unix.Statx_t) {
	if depth+1 >= maxScanDepth {
		s.fail(path, fmt.Errorf("deeper than %d levels: not scanned", maxScanDepth))
		return
	}
	fd, err := sys.Openat(dirfd, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW, 0)
	if err != nil {
		if err == unix.EACCES {
			// Unreadable: still judge the directory itself on an
			// O_PATH fd, and say that below it was not scanned.
			s.file(dirfd, name, path, stx)
		}
		if err != unix.ENOENT {
			s.fail(path, err)
		}
		return
	}
	defer sys.Close(fd)
	// The entry may have been swapped since statx: judge what was opened.
	if err := sys.Statx(fd, "", unix.AT_EMPTY_PATH, statxMask, stx); err != nil {
		s.fail(path, err)
		return
	}
	child, err := mountID(fd, stx)
	if err != nil {
		s.fail(path, err)
		return
	}
	s.judge(fd, path, stx)
	if child != mnt {
		s.add(kindMount, path, "mount point", stx)
		if s.rep.NoXDev {
			return
		}
	}
	s.dir(fd, path, child, depth+1)
}

// file examines any entry but a directory or a link, on an O_PATH fd.
func (s *scanner) file(dirfd int, name, path string, stx *unix.Statx_t) {
	fd, err := sys.OpenPath(dirfd, name)
	if err != nil {
		if err != unix.ENOENT {
			s.fail(path, err)
		}
		return
	}
	defer sys.Close(fd)
	if err := sys.Statx(fd, "", unix.AT_EMPTY_PATH, statxMask, stx); err != nil {
		s.fail(path, err)
		return
	}
	mode := uint32(stx.Mode)
	if mode&unix.S_IFMT == unix.S_IFLNK {
		return // swapped for a link since statx: gone from what was listed
	}
	s.judge(fd, path, stx)
	if mode&unix.S_IFMT != unix.S_IFREG {
		return
	}
	switch {
	case mode&unix.S_ISUID != 0 && mode&unix.S_ISGID != 0:
		s.add(kindSetid, path, fmt.Sprintf("setuid uid %d and setgid gid %d", stx.Uid, stx.Gid), stx)
	case mode&unix.S_ISUID != 0:
		s.add(kindSetid, path, fmt.Sprintf("setuid uid %d", stx.Uid), stx)
	case mode&unix.S_ISGID != 0:
		s.add(kindSetid, path, fmt.Sprintf("setgid gid %d", stx.Gid), stx)
	}
	if stx.Nlink > 1 {
		s.add(kindHardlink, path, fmt.Sprintf("%d hard links (inode %d)", stx.Nlink, stx.Ino), stx)
		s.rep.Findings[len(s.rep.Findings)-1].Nlink = stx.Nlink
	}
}

// judge applies securepath's rules to the entry open as fd.
func (s *scanner) judge(fd int, path string, stx *unix.Statx_t) {
	why, err := s.pol.Writable(uintptr(fd))
	if err != nil {
		s.fail(path, err)
		return
	}
	if why != "" {
		s.add(kindWritable, path, why, stx)
	}
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	defer runtime.KeepAlive(f)
	return sys.IsTerminal(int(f.Fd()))
}
