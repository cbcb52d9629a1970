package extract

import (
	"io"
	"io/fs"
	"os"
	"path"
	"syscall"
	"time"

	"github.com/pathguard/pathguard/confine"
)

// target is where the engine creates entries. Every name is clean,
// relative and slash-separated; every error matches what a Root returns
// (fs.ErrExist for an existing name, confine.ErrSymlink for a link on the
// way).
type target interface {
	mkdir(name string) error          // one directory, mode 0o700 until finish
	kind(name string) (Kind, error)   // of the entry itself, a link not followed
	create(name string) (file, error) // a new regular file, never an existing one
	openDir(name string) (dirHandle, error)
	symlink(oldname, name string) error // name -> oldname
	link(oldname, name string) error    // a hard link, oldname never followed
	rename(oldname, name string) error
	remove(name string) error
	mknod(name string, mode fs.FileMode, dev uint64) error
	lchown(name string, uid, gid int) error
	same(name string, id any) bool // name is still the regular file id
}

// file is a regular file being written.
type file interface {
	io.Writer
	// finish applies the mode (0o777 bits only), the time when not zero,
	// and the owner when not nil, on the file itself.
	finish(mode fs.FileMode, mtime time.Time, o *owner) error
	id() any
	close() error
}

// dirHandle is a directory held open until the end.
type dirHandle interface {
	finish(mode fs.FileMode, mtime time.Time, o *owner) error
	id() any
	close() error
}

// sameID reports whether two identities (from id) name one file.
func sameID(a, b any) bool {
	fa, ok1 := a.(fs.FileInfo)
	fb, ok2 := b.(fs.FileInfo)
	if ok1 && ok2 {
		return os.SameFile(fa, fb)
	}
	return a != nil && a == b
}

// rootTarget creates entries through a confine.Root that refuses every
// symlink (NoSymlinks): each operation resolves its name on held
// descriptors and acts with one *at call on the final component.
type rootTarget struct{ r *confine.Root }

func (t rootTarget) mkdir(name string) error { return t.r.Mkdir(name, 0o700) }

func (t rootTarget) kind(name string) (Kind, error) {
	fi, err := t.r.Lstat(name)
	if err != nil {
		return 0, err
	}
	return kindOf(fi.Mode()), nil
}

func (t rootTarget) create(name string) (file, error) {
	// 0o600 while writing; finish sets the mode on the descriptor.
	f, err := t.r.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, err
	}
	return &osFile{f: f}, nil
}

func (t rootTarget) openDir(name string) (dirHandle, error) {
	f, err := t.r.OpenFile(name, openDirFlags, 0)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil || !fi.IsDir() {
		f.Close()
		return nil, syscall.ENOTDIR
	}
	return &osFile{f: f, fi: fi}, nil
}

func (t rootTarget) symlink(oldname, name string) error { return t.r.Symlink(oldname, name) }
func (t rootTarget) link(oldname, name string) error    { return t.r.Link(oldname, name) }
func (t rootTarget) rename(oldname, name string) error  { return t.r.Rename(oldname, name) }
func (t rootTarget) remove(name string) error           { return t.r.Remove(name) }
func (t rootTarget) lchown(name string, uid, gid int) error {
	return t.r.Lchown(name, uid, gid)
}

func (t rootTarget) mknod(name string, mode fs.FileMode, dev uint64) error {
	return t.r.Mknod(name, mode, dev)
}

func (t rootTarget) same(name string, id any) bool {
	fi, err := t.r.Lstat(name)
	return err == nil && fi.Mode().IsRegular() && sameID(fi, id)
}

// osFile is a file or directory of a rootTarget, acted on by descriptor.
type osFile struct {
	f  *os.File
	fi fs.FileInfo
}

func (o *osFile) Write(p []byte) (int, error) { return o.f.Write(p) }

func (o *osFile) finish(mode fs.FileMode, mtime time.Time, own *owner) error {
	// chown first: it may clear set-id bits, and the mode is the last
	// word.
	if own != nil {
		if err := o.f.Chown(own.uid, own.gid); err != nil {
			return err
		}
	}
	if err := o.f.Chmod(mode & fs.ModePerm); err != nil {
		return err
	}
	if !mtime.IsZero() {
		return setTimes(o.f, mtime)
	}
	return nil
}

func (o *osFile) id() any {
	if o.fi == nil {
		fi, err := o.f.Stat()
		if err != nil {
			return nil
		}
		o.fi = fi
	}
	return o.fi
}

func (o *osFile) close() error { return o.f.Close() }

// simTarget is an empty directory in memory: what a scan extracts into.
// It writes nothing and follows the rules a rootTarget's Root applies.
type simTarget struct {
	nodes map[string]Kind
	ids   map[string]int
	next  int
}

func newSimTarget() *simTarget {
	return &simTarget{nodes: map[string]Kind{".": KindDir}, ids: map[string]int{}}
}

// check says what a Root with NoSymlinks would say about the parent of
// name.
func (t *simTarget) check(name string) error {
	d := path.Dir(name)
	switch k, ok := t.nodes[d]; {
	case !ok:
		return fs.ErrNotExist
	case k == KindSymlink:
		return confine.ErrSymlink
	case k != KindDir:
		return syscall.ENOTDIR
	}
	return nil
}

func (t *simTarget) add(name string, k Kind) error {
	if err := t.check(name); err != nil {
		return err
	}
	if _, ok := t.nodes[name]; ok {
		return fs.ErrExist
	}
	t.nodes[name] = k
	t.next++
	t.ids[name] = t.next
	return nil
}

func (t *simTarget) mkdir(name string) error { return t.add(name, KindDir) }

func (t *simTarget) kind(name string) (Kind, error) {
	if err := t.check(name); err != nil {
		return 0, err
	}
	k, ok := t.nodes[name]
	if !ok {
		return 0, fs.ErrNotExist
	}
	return k, nil
}

func (t *simTarget) create(name string) (file, error) {
	if err := t.add(name, KindFile); err != nil {
		return nil, err
	}
	return simFile(t.ids[name]), nil
}

func (t *simTarget) openDir(name string) (dirHandle, error) {
	if k, err := t.kind(name); err != nil || k != KindDir {
		return nil, syscall.ENOTDIR
	}
	return simFile(t.ids[name]), nil
}

func (t *simTarget) symlink(_, name string) error { return t.add(name, KindSymlink) }

func (t *simTarget) link(oldname, name string) error {
	k, err := t.kind(oldname)
	if err != nil {
		return err
	}
	if err := t.add(name, k); err != nil {
		return err
	}
	t.ids[name] = t.ids[oldname]
	return nil
}

func (t *simTarget) rename(oldname, name string) error {
	k, err := t.kind(oldname)
	if err != nil {
		return err
	}
	if err := t.check(name); err != nil {
		return err
	}
	if k, ok := t.nodes[name]; ok && k == KindDir {
		return fs.ErrExist // as rename(2) over a non-empty directory, or os.Root
	}
	t.nodes[name], t.ids[name] = k, t.ids[oldname]
	delete(t.nodes, oldname)
	delete(t.ids, oldname)
	return nil
}

func (t *simTarget) remove(name string) error {
	delete(t.nodes, name)
	delete(t.ids, name)
	return nil
}

func (t *simTarget) mknod(name string, mode fs.FileMode, _ uint64) error {
	return t.add(name, kindOf(mode))
}

func (t *simTarget) lchown(string, int, int) error { return nil }

func (t *simTarget) same(name string, id any) bool {
	return t.nodes[name] == KindFile && sameID(t.ids[name], id)
}

// simFile is a file of a simTarget: its identity, and nowhere to write.
type simFile int

func (simFile) Write(p []byte) (int, error)                 { return len(p), nil }
func (simFile) finish(fs.FileMode, time.Time, *owner) error { return nil }
func (s simFile) id() any                                   { return int(s) }
func (simFile) close() error                                { return nil }
