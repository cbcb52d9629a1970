//go:build linux

package fuzz

import (
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/pathguard/pathguard/confine"
	"github.com/pathguard/pathguard/internal/testfs"
)

// The operations the operation targets decode from their input, and how
// they are applied to a confine.Root or an os.Root alike.

const (
	opOpenFile = iota
	opMkdir
	opMkdirAll
	opSymlink
	opLink
	opRename
	opRemove
	opRemoveAll
	opOpen
	opChmod
	opChtimes
	opWriteFile
	opReadDir
	opOpenRoot
	opStat
	opLstat
	opReadlink
	opReadFile
	opResolve
	numOps
)

var opNames = [numOps]string{
	"OpenFile", "Mkdir", "MkdirAll", "Symlink", "Link", "Rename", "Remove", "RemoveAll",
	"Open", "Chmod", "Chtimes", "WriteFile", "ReadDir", "OpenRoot", "Stat", "Lstat",
	"Readlink", "ReadFile", "Resolve",
}

// readOnlyOps are the operations allowed on a Root inside /proc: nothing
// there is ever written, even by a broken build.
var readOnlyOps = []int{opOpen, opReadDir, opOpenRoot, opStat, opLstat, opReadlink, opResolve}

var openFlags = []int{
	os.O_RDONLY,
	os.O_WRONLY | os.O_CREATE | os.O_EXCL,
	os.O_WRONLY | os.O_CREATE | os.O_TRUNC,
	os.O_RDWR | os.O_CREATE,
	os.O_WRONLY | os.O_APPEND,
	os.O_WRONLY | os.O_TRUNC,
	os.O_RDONLY | syscall.O_DIRECTORY,
	os.O_RDWR,
}

var createPerms = []fs.FileMode{0o700, 0o755, 0o644, 0o600, 0o000, 0o555, 0o777, 0o640}

var chmodModes = []fs.FileMode{0o700, 0o755, 0o000, 0o644, 0o777, 0o555, 0o711, fs.ModeSetuid | 0o755, fs.ModeSticky | 0o777, fs.ModeSetgid | 0o755}

// absMark starts a symlink target that is absolute: the rest is read
// below the tree's base directory, so a target never names anything on
// the system outside the fuzzer's own directory (a broken build that
// follows it must only be able to harm the canary).
const absMark = "\x00"

// op is one decoded operation.
type op struct {
	code      int
	name, arg string // arg: the new name of Rename and Link, the target of Symlink
	flag      int
	perm      fs.FileMode
	data      string
	mtime     time.Time
}

func (o op) String() string {
	switch o.code {
	case opSymlink:
		return fmt.Sprintf("Symlink(%q, %q)", strings.Replace(o.arg, absMark, "<base>/", 1), o.name)
	case opRename, opLink:
		return fmt.Sprintf("%s(%q, %q)", opNames[o.code], o.name, o.arg)
	case opOpenFile:
		return fmt.Sprintf("OpenFile(%q, %#x, %v)", o.name, o.flag, o.perm)
	case opMkdir, opMkdirAll, opChmod:
		return fmt.Sprintf("%s(%q, %v)", opNames[o.code], o.name, o.perm)
	case opWriteFile:
		return fmt.Sprintf("WriteFile(%q, %q, %v)", o.name, o.data, o.perm)
	}
	return fmt.Sprintf("%s(%q)", opNames[o.code], o.name)
}

// decodeOp reads one operation: names from pool, symlink targets from
// targets (absolute ones only from absPool, so that "/" + target never
// exists on the system).
func decodeOp(in *input, allowed []int, pool, targets, absPool []string) op {
	o := op{code: allowed[int(in.byte())%len(allowed)]}
	o.name = in.name(pool)
	switch o.code {
	case opOpenFile:
		o.flag = openFlags[int(in.byte())%len(openFlags)]
		o.perm = createPerms[int(in.byte())%len(createPerms)]
		o.data = "o" + in.pick(pool)
	case opMkdir, opMkdirAll:
		o.perm = createPerms[int(in.byte())%len(createPerms)]
	case opWriteFile:
		o.perm = createPerms[int(in.byte())%len(createPerms)]
		o.data = "w" + in.pick(pool)
	case opChmod:
		o.perm = chmodModes[int(in.byte())%len(chmodModes)]
	case opChtimes:
		o.mtime = time.Unix(int64(in.byte())*1e6, 0)
	case opRename, opLink:
		o.arg = in.name(pool)
	case opSymlink:
		o.arg = decodeTarget(in, targets, absPool)
	}
	return o
}

// decodeTarget reads a symlink target of one to four components with at
// most two ".." (trees are nested deep enough that no broken build can
// climb out of the fuzzer's directory with them).
func decodeTarget(in *input, targets, absPool []string) string {
	n := in.byte()
	var comps []string
	ups := 0
	for i := 0; i < 1+int(n)%4; i++ {
		c := in.pick(targets)
		if c == ".." {
			if ups++; ups > 2 {
				continue
			}
		}
		comps = append(comps, c)
	}
	s := strings.Join(comps, "/")
	switch {
	case n&0xc0 == 0xc0:
		// "/x..." read relative to "/" (InRoot: relative to the
		// root); x never exists at "/".
		return "/" + in.pick(absPool) + "/" + s
	case n&0x80 != 0:
		return absMark + s
	case n&0x40 != 0:
		return s + "/"
	}
	return s
}

// target returns the symlink target an op stands for in the tree whose
// base directory is base.
func target(t, base string) string {
	if rest, ok := strings.CutPrefix(t, absMark); ok {
		return base + "/" + rest
	}
	return t
}

// opRoot is what confine.Root and os.Root both offer.
type opRoot interface {
	OpenFile(string, int, fs.FileMode) (*os.File, error)
	Open(string) (*os.File, error)
	Mkdir(string, fs.FileMode) error
	MkdirAll(string, fs.FileMode) error
	Symlink(string, string) error
	Link(string, string) error
	Rename(string, string) error
	Remove(string) error
	RemoveAll(string) error
	Chmod(string, fs.FileMode) error
	Chtimes(string, time.Time, time.Time) error
	WriteFile(string, []byte, fs.FileMode) error
	ReadFile(string) ([]byte, error)
	Stat(string) (fs.FileInfo, error)
	Lstat(string) (fs.FileInfo, error)
	Readlink(string) (string, error)
}

// result is what an operation gave: its error, the files it opened (for
// the caller to check and close) and what it read.
type result struct {
	err   error
	files []*os.File
	data  string
}

func (r *result) close() {
	for _, f := range r.files {
		f.Close()
	}
	r.files = nil
}

// apply runs o on r, whose tree has the base directory base. proc says
// the root is inside /proc: files are opened with O_NONBLOCK there, so
// that no broken build can block on a pipe reached through fd/N.
func apply(r opRoot, o op, base string, proc bool) (res result) {
	switch o.code {
	case opOpenFile:
		f, err := r.OpenFile(o.name, o.flag, o.perm)
		res.err = err
		if err == nil {
			res.files = append(res.files, f)
			if o.flag&(os.O_WRONLY|os.O_RDWR) != 0 {
				_, res.err = f.Write([]byte(o.data))
			} else {
				res.data = readSome(f)
			}
		}
	case opOpen:
		var f *os.File
		var err error
		if proc {
			f, err = r.OpenFile(o.name, os.O_RDONLY|syscall.O_NONBLOCK, 0)
		} else {
			f, err = r.Open(o.name)
		}
		res.err = err
		if err == nil {
			res.files = append(res.files, f)
			if !proc {
				res.data = readSome(f)
			}
		}
	case opMkdir:
		res.err = r.Mkdir(o.name, o.perm)
	case opMkdirAll:
		res.err = r.MkdirAll(o.name, o.perm)
	case opSymlink:
		res.err = r.Symlink(target(o.arg, base), o.name)
	case opLink:
		res.err = r.Link(o.name, o.arg)
	case opRename:
		res.err = r.Rename(o.name, o.arg)
	case opRemove:
		res.err = r.Remove(o.name)
	case opRemoveAll:
		res.err = r.RemoveAll(o.name)
	case opChmod:
		res.err = r.Chmod(o.name, o.perm)
	case opChtimes:
		res.err = r.Chtimes(o.name, o.mtime, o.mtime)
	case opWriteFile:
		res.err = r.WriteFile(o.name, []byte(o.data), o.perm)
	case opReadFile:
		b, err := r.ReadFile(o.name)
		res.err, res.data = err, string(b)
	case opStat, opLstat:
		stat := r.Stat
		if o.code == opLstat {
			stat = r.Lstat
		}
		fi, err := stat(o.name)
		res.err = err
		if err == nil {
			res.data = fi.Mode().Type().String()
			if !proc {
				res.data += fmt.Sprintf(" %d", fi.Size())
			}
		}
	case opReadlink:
		s, err := r.Readlink(o.name)
		res.err, res.data = err, s
		if base != "" {
			res.data = strings.Replace(s, base, "<base>", 1)
		}
	case opReadDir:
		var ents []fs.DirEntry
		var err error
		if cr, ok := r.(*confine.Root); ok {
			ents, err = cr.ReadDir(o.name)
		} else {
			var f *os.File
			if f, err = r.Open(o.name); err == nil {
				ents, err = f.ReadDir(-1)
				f.Close()
			}
		}
		res.err = err
		if !proc {
			var names []string
			for _, e := range ents {
				names = append(names, e.Name()+":"+e.Type().String())
			}
			slices.Sort(names)
			res.data = strings.Join(names, ",")
		}
	case opOpenRoot:
		var f *os.File
		var err error
		switch r := r.(type) {
		case *confine.Root:
			var sub *confine.Root
			if sub, err = r.OpenRoot(o.name); err == nil {
				f, err = sub.Open(".")
				sub.Close()
			}
		case *os.Root:
			var sub *os.Root
			if sub, err = r.OpenRoot(o.name); err == nil {
				f, err = sub.Open(".")
				sub.Close()
			}
		}
		res.err = err
		if err == nil {
			res.files = append(res.files, f)
		}
	case opResolve:
		if cr, ok := r.(*confine.Root); ok {
			res.data, res.err = cr.Resolve(o.name)
		}
	}
	return res
}

// applyRetry is apply repeated while it fails with EAGAIN (see
// testfs.Retry): a lookup refused that way has done nothing.
func applyRetry(r opRoot, o op, base string, proc bool) result {
	var res result
	testfs.Retry(func() error {
		res.close()
		res = apply(r, o, base, proc)
		return res.err
	})
	return res
}

// readSome describes an opened file: the first bytes of a regular file,
// "dir" for a directory.
func readSome(f *os.File) string {
	fi, err := f.Stat()
	if err != nil {
		return "stat: " + err.Error()
	}
	if fi.IsDir() {
		return "dir"
	}
	if !fi.Mode().IsRegular() {
		return fi.Mode().Type().String()
	}
	b := make([]byte, 64)
	n, _ := f.ReadAt(b, 0)
	return string(b[:n])
}

// followsLast reports whether o acts on what a final symlink points to
// rather than on the link itself.
func followsLast(o op) bool {
	switch o.code {
	case opMkdir, opSymlink, opLink, opRename, opRemove, opRemoveAll, opLstat, opReadlink:
		return false
	case opOpenFile:
		return o.flag&(os.O_CREATE|os.O_EXCL) != os.O_CREATE|os.O_EXCL
	}
	return true
}

// crossesLink reports whether resolving name in the tree at dir, as it is
// now, meets a symlink that would be followed: a link before the last
// component, or the last one when follow is set or the name ends in a
// slash (except for RemoveAll, which removes "link/" as the link
// itself, as os.RemoveAll does). A lookup that fails or escapes before
// any link is false.
func crossesLink(dir string, o op, name string, follow, inRoot bool) bool {
	slash := strings.HasSuffix(name, "/") && o.code != opRemoveAll
	return lexWalk(dir, name, inRoot, func(st *unix.Stat_t, last bool) (bool, bool) {
		if st.Mode&unix.S_IFMT == unix.S_IFLNK {
			return true, !last || follow || slash
		}
		return false, false
	})
}

// reachesMount reports whether resolving name in the tree at dir, as it
// is now, reaches an entry on another device than dev (the tmpfs mounted
// in the tree) before it meets any symlink: the mount point itself, as
// the last component too, or anything through it. Every operation on
// such a name crosses a mount and must fail under NoXDev (a mount point
// cannot be removed, renamed or created either).
func reachesMount(dir, name string, inRoot bool, dev uint64) bool {
	return lexWalk(dir, name, inRoot, func(st *unix.Stat_t, last bool) (bool, bool) {
		if st.Mode&unix.S_IFMT == unix.S_IFLNK {
			return true, false
		}
		return st.Dev != dev, st.Dev != dev
	})
}

// escapesBeneath reports whether resolving name in the tree at dir, as
// it is now, leaves the root in Beneath mode: an absolute name, a ".."
// above the root, or an absolute symlink target, following links as the
// operation would (every link before the last component; the last one
// when follow is set or the name ends in a slash, except for RemoveAll).
// A lookup that meets something missing, a file before its end or more
// than 40 links before it escapes is false: nothing is claimed then.
func escapesBeneath(dir string, o op, name string, follow bool) bool {
	if strings.HasPrefix(name, "/") {
		return true
	}
	slash := strings.HasSuffix(name, "/") && o.code != opRemoveAll
	isSlash := func(r rune) bool { return r == '/' }
	todo := strings.FieldsFunc(name, isSlash)
	var stack []string
	for hops := 0; len(todo) > 0; {
		c := todo[0]
		todo = todo[1:]
		last := len(todo) == 0
		switch c {
		case ".":
			continue
		case "..":
			if len(stack) == 0 {
				return true
			}
			stack = stack[:len(stack)-1]
			continue
		}
		p := dir + "/" + strings.Join(append(slices.Clone(stack), c), "/")
		var st unix.Stat_t
		if unix.Lstat(p, &st) != nil {
			return false
		}
		switch st.Mode & unix.S_IFMT {
		case unix.S_IFDIR:
			stack = append(stack, c)
		case unix.S_IFLNK:
			if last && !follow && !slash {
				return false
			}
			tgt, err := os.Readlink(p)
			if hops++; err != nil || hops > 40 {
				return false
			}
			if strings.HasPrefix(tgt, "/") {
				return true
			}
			todo = append(strings.FieldsFunc(tgt, isSlash), todo...)
		default:
			if !last {
				return false
			}
		}
	}
	return false
}

// lexWalk resolves name in the tree at dir by Lstat, component by
// component, with ".." popping what was entered, and hands each entry
// met (with last set for the final component) to visit, which says
// whether the walk is done and with what answer. A name that is
// absolute outside InRoot, escapes with "..", or meets something
// missing or not a directory before its end is false, as is a walk
// visit never stops.
func lexWalk(dir, name string, inRoot bool, visit func(st *unix.Stat_t, last bool) (done, answer bool)) bool {
	if strings.HasPrefix(name, "/") && !inRoot {
		return false
	}
	comps := strings.FieldsFunc(name, func(r rune) bool { return r == '/' })
	var stack []string
	for i, c := range comps {
		last := i == len(comps)-1
		switch c {
		case ".":
			continue
		case "..":
			if len(stack) == 0 {
				if !inRoot {
					return false
				}
				continue
			}
			stack = stack[:len(stack)-1]
			continue
		}
		var st unix.Stat_t
		p := dir + "/" + strings.Join(append(slices.Clone(stack), c), "/")
		if unix.Lstat(p, &st) != nil {
			return false
		}
		if done, answer := visit(&st, last); done {
			return answer
		}
		if st.Mode&unix.S_IFMT != unix.S_IFDIR {
			return false
		}
		stack = append(stack, c)
	}
	return false
}
