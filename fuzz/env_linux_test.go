//go:build linux

package fuzz

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/pathguard/pathguard/confine"
	"github.com/pathguard/pathguard/internal/procfs"
	"github.com/pathguard/pathguard/internal/resolve"
)

// This file holds what the operation targets share: a byte reader that
// decodes inputs, a thread in a private mount namespace for the trees
// that hold a mount, fd counting, tree snapshots and inode maps.

// input reads an input byte by byte; past its end every byte is 0, so
// any input decodes to something.
type input struct {
	b []byte
	i int
}

func (in *input) byte() byte {
	if in.i >= len(in.b) {
		return 0
	}
	c := in.b[in.i]
	in.i++
	return c
}

// pick returns one of pool, chosen by the next byte.
func (in *input) pick(pool []string) string { return pool[int(in.byte())%len(pool)] }

// name decodes a relative name of one to four components from pool: the
// high bit of the first byte adds a trailing slash, the next one a
// leading slash (an absolute name).
func (in *input) name(pool []string) string {
	n := in.byte()
	comps := make([]string, 1+int(n)%4)
	for i := range comps {
		comps[i] = in.pick(pool)
	}
	s := strings.Join(comps, "/")
	if n&0x80 != 0 {
		s += "/"
	}
	if n&0x40 != 0 {
		s = "/" + s
	}
	return s
}

// nsThread runs functions on one OS thread that has a mount namespace of
// its own (root only), so that a tmpfs mounted there is gone when the
// process exits, whatever happens to it. Path lookups from a descriptor
// opened on that thread stay in its namespace from any thread, so only
// the lookups by path (opening roots, building and resetting trees) need
// to run there; running a whole iteration there keeps it simple.
type nsThread struct {
	req chan func()
	ok  bool // the namespace exists: mounts are possible
}

var theNS *nsThread

// ns returns the shared namespace thread, starting it the first time.
func ns() *nsThread {
	if theNS != nil {
		return theNS
	}
	t := &nsThread{req: make(chan func())}
	ready := make(chan bool)
	go func() {
		// Never unlocked: the thread keeps the namespace until the
		// process exits.
		runtime.LockOSThread()
		ok := os.Geteuid() == 0 && unix.Unshare(unix.CLONE_NEWNS) == nil &&
			unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, "") == nil
		ready <- ok
		for fn := range t.req {
			fn()
		}
	}()
	t.ok = <-ready
	theNS = t
	return t
}

// do runs fn on the namespace thread and waits for it.
func (t *nsThread) do(fn func()) {
	done := make(chan struct{})
	t.req <- func() { defer close(done); fn() }
	<-done
}

// memDir returns a new directory for a target's trees (tempDir), with a
// tmpfs mounted on it in t's mount namespace where there is one, so that
// only code running on t sees the trees. Rebuilding a tree for every
// input takes tens of symlinks and directories, which on some disks cost
// hundreds of microseconds each (a few on a tmpfs): the tmpfs multiplies
// the executions a second. Without the namespace the directory is on the
// disk, as tempDir makes it.
func (t *nsThread) memDir(tb testing.TB) string {
	d := tempDir(tb)
	if !t.ok {
		return d
	}
	var err error
	t.do(func() { err = unix.Mount("tmpfs", d, "tmpfs", 0, "mode=0700") })
	if err != nil {
		tb.Fatalf("mount a tmpfs on %s: %v", d, err)
	}
	tb.Cleanup(func() { t.do(func() { unix.Unmount(d, unix.MNT_DETACH) }) })
	return d
}

// seeds returns a target's seed inputs. A negative control run to see
// whether inputs the fuzzer generates, not the seeds, catch a broken
// build makes it return one empty input, in a copy of the tree without
// fuzz/testdata (docs/fuzzing.md).
func seeds(s [][]byte) [][]byte {
	return s
}

// countFDs counts the entries of /proc/self/fd. The process's procfs
// handle, which the library opens on first use and never closes, is
// opened first, so that it counts before as well as after.
func countFDs() int {
	procfs.Get()
	f, err := os.Open("/proc/self/fd")
	if err != nil {
		return -1
	}
	defer f.Close()
	names, _ := f.Readdirnames(-1)
	return len(names)
}

type devIno struct{ dev, ino uint64 }

// inodes maps every entry under dir, dir included, by device and inode
// to its slash-separated path relative to dir ("." for dir). Links are
// not followed; mounts are crossed.
func inodes(dir string) (map[devIno]string, error) {
	m := map[devIno]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			// An entry made unreadable, or renamed away (or replaced by
			// a file) by a concurrent swapper, is left out.
			if p != dir {
				return nil
			}
			return err
		}
		var st unix.Stat_t
		if err := unix.Lstat(p, &st); err != nil {
			return nil
		}
		rel, _ := filepath.Rel(dir, p)
		if _, ok := m[devIno{st.Dev, st.Ino}]; !ok {
			m[devIno{st.Dev, st.Ino}] = filepath.ToSlash(rel)
		}
		return nil
	})
	return m, err
}

func fdDevIno(fd int) (devIno, error) {
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return devIno{}, err
	}
	return devIno{st.Dev, st.Ino}, nil
}

func fdMountID(fd int) (uint64, error) {
	var stx unix.Statx_t
	if err := unix.Statx(fd, "", unix.AT_EMPTY_PATH, unix.STATX_MNT_ID, &stx); err != nil {
		return 0, err
	}
	return stx.Mnt_id, nil
}

// snapshot describes every entry under dir, dir included: type, mode,
// owner, size, modification time, the content of files and the target
// of links, so that a change of any byte, bit or time shows. Entries the
// caller cannot read are made readable first (a Chmod to 0 must not
// hide a change when not root).
func snapshot(dir string, withTimes bool) (map[string]string, error) {
	m := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrPermission) {
				os.Chmod(p, 0o700)
				m[p] = "unreadable"
				return nil
			}
			return err
		}
		var st unix.Stat_t
		if err := unix.Lstat(p, &st); err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		desc := fmt.Sprintf("%o %d:%d", st.Mode, st.Uid, st.Gid)
		if withTimes {
			desc += fmt.Sprintf(" mtime=%d.%09d", st.Mtim.Sec, st.Mtim.Nsec)
		}
		switch st.Mode & unix.S_IFMT {
		case unix.S_IFLNK:
			tgt, err := os.Readlink(p)
			if err != nil {
				return err
			}
			desc += " -> " + tgt
		case unix.S_IFREG:
			if st.Mode&0o400 == 0 {
				os.Chmod(p, os.FileMode(st.Mode&0o7777|0o400))
			}
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			desc += " " + strconv.Quote(string(b))
		case unix.S_IFDIR:
			if st.Mode&0o500 != 0o500 && p != dir {
				os.Chmod(p, os.FileMode(st.Mode&0o7777|0o500))
			}
		}
		m[filepath.ToSlash(rel)] = desc
		return nil
	})
	return m, err
}

// diffMaps lists the keys whose values differ between a and b.
func diffMaps(a, b map[string]string) []string {
	var out []string
	for k, v := range a {
		if w, ok := b[k]; !ok {
			out = append(out, fmt.Sprintf("%s: %s -> (gone)", k, v))
		} else if w != v {
			out = append(out, fmt.Sprintf("%s: %s -> %s", k, v, w))
		}
	}
	for k, w := range b {
		if _, ok := a[k]; !ok {
			out = append(out, fmt.Sprintf("%s: (new) %s", k, w))
		}
	}
	return out
}

// clearDir empties dir (keeping dir itself and any mount point under it,
// whose content is emptied instead), after making every directory
// writable and searchable again.
func clearDir(dir string) error {
	var mounts []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if d != nil && d.IsDir() {
			os.Chmod(p, 0o755)
		}
		return nil
	})
	ents, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range ents {
		p := filepath.Join(dir, e.Name())
		err := os.RemoveAll(p)
		if errors.Is(err, syscall.EPERM) && appendOnly(p, false) == nil {
			err = os.RemoveAll(p) // an append-only directory (FuzzOps's a)
		}
		if err != nil {
			if errors.Is(err, syscall.EBUSY) {
				mounts = append(mounts, p)
				continue
			}
			return err
		}
	}
	for _, m := range mounts {
		if err := clearDir(m); err != nil {
			return err
		}
	}
	return nil
}

// realParents reports whether every directory on the way from dir to
// name (slash-separated, relative) that exists is a real directory, not
// a link nor anything else, and name itself does not exist yet: a tree
// built from input creates an entry only then, so that the test's own
// building never follows a planted link out of its tree.
func realParents(dir, name string) bool {
	comps := strings.FieldsFunc(name, func(r rune) bool { return r == '/' })
	if len(comps) == 0 {
		return false
	}
	p := dir
	for i, c := range comps {
		if c == "." || c == ".." {
			return false
		}
		p += "/" + c
		var st unix.Stat_t
		err := unix.Lstat(p, &st)
		if i == len(comps)-1 {
			return errors.Is(err, fs.ErrNotExist)
		}
		if errors.Is(err, fs.ErrNotExist) {
			return true // the rest is made by MkdirAll, as directories
		}
		if err != nil || st.Mode&unix.S_IFMT != unix.S_IFDIR {
			return false
		}
	}
	return false
}

// refuseOpenat2 makes every openat2 call fail with errno, as a seccomp
// filter would, until the returned function restores it.
func refuseOpenat2(errno syscall.Errno) (restore func()) {
	return resolve.SetOpenat2ForTest(func(int, string, *unix.OpenHow) (int, error) {
		return -1, errno
	})
}

// osEscape is the error os.Root gives for an escape, which it does not
// export; it is captured once and matched by identity.
var osEscape = func() error {
	dir, err := os.MkdirTemp("", "osescape")
	if err != nil {
		return nil
	}
	defer os.Remove(dir)
	r, err := os.OpenRoot(dir)
	if err != nil {
		return nil
	}
	defer r.Close()
	_, err = r.Open("../x")
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return nil
}()

// class names the kind of an error for comparing two implementations:
// "ok", "escape", "invalid", or the errno underneath.
func class(err error) string {
	switch {
	case err == nil:
		return "ok"
	case errors.Is(err, confine.ErrEscape), osEscape != nil && errors.Is(err, osEscape):
		return "escape"
	case errors.Is(err, confine.ErrCrossDevice):
		return "xdev"
	case errors.Is(err, confine.ErrSymlink):
		return "symlink"
	case errors.Is(err, resolve.ErrInvalid):
		return "invalid"
	}
	var errno syscall.Errno
	if errors.As(err, &errno) {
		return errno.Error()
	}
	// os.Root's OpenRoot of a file says "not a directory" without an
	// errno underneath.
	var pe *fs.PathError
	if errors.As(err, &pe) && pe.Err.Error() == syscall.ENOTDIR.Error() {
		return syscall.ENOTDIR.Error()
	}
	return "other: " + err.Error()
}

// nest returns dir/p/p/.../p, depth levels down, created: trees are built
// deep below their temporary directory so that even a broken build
// following a chain of ".." out of a tree stays within that directory.
func nest(dir string, depth int) (string, error) {
	p := dir + strings.Repeat("/p", depth)
	return p, os.MkdirAll(p, 0o755)
}

// openOpts returns the confine options of a decoded configuration byte.
func optsOf(walk, inRoot, noSymlinks, noXDev, auto bool) []confine.Option {
	var o []confine.Option
	switch {
	case auto:
		o = append(o, confine.WithResolver(confine.ResolverAuto))
	case walk:
		o = append(o, confine.WithResolver(confine.ResolverWalk))
	default:
		o = append(o, confine.WithResolver(confine.ResolverOpenat2))
	}
	if inRoot {
		o = append(o, confine.InRoot())
	}
	if noSymlinks {
		o = append(o, confine.NoSymlinks())
	}
	if noXDev {
		o = append(o, confine.NoXDev())
	}
	return o
}
