package securepath

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/pathguard/pathguard/confine"
	"github.com/pathguard/pathguard/internal/resolve"
	"github.com/pathguard/pathguard/internal/sys"
)

// Test seams: noTmpfile makes O_TMPFILE look unsupported, noEmptyPathLink
// makes linkat(AT_EMPTY_PATH) look refused, so both fallbacks run as root.
var (
	noTmpfile       bool
	noEmptyPathLink bool
)

// beforePublish, when set, is called with the temporary name just before
// it is published by name (the rename for Replace, the linkat of the
// named fallback for CreateOnly): tests use it to do there what an
// attacker who can write the directory could.
var beforePublish func(tmp string)

// maxTmpTries bounds the attempts at a fresh temporary name: with 64
// random bits a collision means someone is planting names, and giving up
// beats looping.
const maxTmpTries = 16

func writeFile(root *confine.Root, name string, data []byte, perm fs.FileMode, mode WriteMode) error {
	// Every error leaves as one *fs.PathError on the caller's name: one
	// from an inner step (the parent's open, the sync) names a different
	// path, and is unwrapped to its cause first.
	fail := func(err error) error {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return &fs.PathError{Op: "writefile", Path: name, Err: err}
	}
	dir, last := ".", name
	if i := strings.LastIndexByte(name, '/'); i >= 0 {
		dir, last = name[:i+1], name[i+1:]
	}
	if last == "" || last == "." || last == ".." {
		// The name is a directory. Whether it escapes is the Root's
		// call, not a lexical one: in InRoot ".." is the root itself.
		// Stat resolves it as the Root resolves anything (ErrEscape in
		// Beneath, ENOENT, ENOTDIR) and needs no read permission.
		if _, err := root.Stat(name); err != nil {
			return fail(err)
		}
		return fail(unix.EISDIR)
	}
	// Step 1: the parent, opened O_RDONLY (fsync needs a real fd; an
	// O_PATH fd gives EBADF) through the Root, so it is inside.
	parent, err := root.OpenFile(dir, os.O_RDONLY|syscall.O_DIRECTORY, 0)
	if err != nil {
		return fail(err)
	}
	defer parent.Close()
	w := &writer{dirfd: int(parent.Fd()), name: last, perm: uint32(perm), fd: -1}
	defer runtime.KeepAlive(parent)

	// Refuse what is already there before any work is done. A link
	// raced in after this is handled by the publishing step itself.
	if err := w.existing(mode); err != nil {
		return fail(err)
	}
	// Step 2: the content, in a file nobody else can reach by name.
	defer w.cleanup()
	if err := w.create(); err != nil {
		return fail(err)
	}
	if err := w.fill(data); err != nil {
		return fail(err)
	}
	// Step 3: the name.
	if err := w.publish(mode); err != nil {
		return fail(err)
	}
	if err := parent.Sync(); err != nil {
		return fail(err)
	}
	return nil
}

// writer holds the state of one WriteFile: the held parent fd, the final
// name in it, and the temporary file.
type writer struct {
	dirfd int
	name  string
	perm  uint32

	fd       int    // the temporary file, -1 once closed
	dev, ino uint64 // its identity, from fstat right after creation
	tmp      string // its name, "" while it has none
}

// existing checks the entry at the name: a link is ErrSymlink, whatever
// the mode; any other non-regular file ErrNotRegular; a regular file
// fs.ErrExist for CreateOnly.
func (w *writer) existing(mode WriteMode) error {
	var st unix.Stat_t
	err := sys.Fstatat(w.dirfd, w.name, &st, unix.AT_SYMLINK_NOFOLLOW)
	if err == unix.ENOENT {
		return nil
	}
	if err != nil {
		return err
	}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFLNK:
		return resolve.ErrSymlink
	case unix.S_IFREG:
		if mode == CreateOnly {
			return fs.ErrExist
		}
		return nil
	}
	return ErrNotRegular
}

// create makes the temporary file: an unnamed O_TMPFILE (Linux 3.11+),
// or, where the file system lacks it, a fresh name created with
// O_CREAT|O_EXCL|O_NOFOLLOW and mode 0, so nobody but root can open it
// before it is complete.
func (w *writer) create() error {
	if !noTmpfile {
		fd, err := sys.Openat(w.dirfd, ".", unix.O_TMPFILE|unix.O_WRONLY, w.perm&0o600)
		switch err {
		case nil:
			w.fd = fd
			return w.identify()
		case unix.EOPNOTSUPP, unix.EISDIR:
			// EOPNOTSUPP: the file system lacks O_TMPFILE. EISDIR: the
			// kernel predates it and saw only O_DIRECTORY.
		default:
			return err
		}
	}
	for range maxTmpTries {
		name, err := w.tmpName()
		if err != nil {
			return err
		}
		fd, err := sys.Openat(w.dirfd, name, unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_WRONLY, 0)
		if err == unix.EEXIST {
			continue
		}
		if err != nil {
			return err
		}
		w.fd, w.tmp = fd, name
		return w.identify()
	}
	return unix.EEXIST
}

// identify records the temporary file's (dev, ino) from its fd, the only
// handle on it nobody else can change, for ours to compare names with.
func (w *writer) identify() error {
	var st unix.Stat_t
	if err := sys.Fstat(w.fd, &st); err != nil {
		return err
	}
	w.dev, w.ino = st.Dev, st.Ino
	return nil
}

// ours reports whether the entry at name in the directory is the
// temporary file itself, without following a link there. A missing
// entry is not ours.
func (w *writer) ours(name string) (bool, error) {
	var st unix.Stat_t
	err := sys.Fstatat(w.dirfd, name, &st, unix.AT_SYMLINK_NOFOLLOW)
	if err == unix.ENOENT {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return st.Dev == w.dev && st.Ino == w.ino, nil
}

// verify checks, after publishing, that the name holds our file. A
// rename or a linkat by name publishes whatever is at the temporary name
// at that instant, and anyone who can write the directory can rename an
// entry of their own over it first (in a sticky directory they cannot:
// the temporary file is ours). Then name holds their entry and ours is
// gone. What is at name is left alone: it may as well be a concurrent
// writer's file, put there after our rename.
func (w *writer) verify() error {
	ok, err := w.ours(w.name)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("%w: the directory let someone else replace the temporary file", ErrInsecure)
	}
	return nil
}

// removeTmp unlinks the temporary name if it still holds our file: after
// a swap it holds someone else's entry, which is not ours to remove. The
// name can still change between the check and the unlink; only someone
// who could remove that entry anyway can arrange that.
func (w *writer) removeTmp() {
	if w.tmp == "" {
		return
	}
	if ok, _ := w.ours(w.tmp); ok {
		_ = sys.Unlinkat(w.dirfd, w.tmp, 0)
	}
	w.tmp = ""
}

// tmpName is ".<name>.<16 hex>.tmp", the name cut short to keep within
// NAME_MAX.
func (w *writer) tmpName() (string, error) {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	base := w.name
	if max := 255 - len("..0123456789abcdef.tmp"); len(base) > max {
		base = base[:max]
	}
	return "." + base + "." + hex.EncodeToString(b[:]) + ".tmp", nil
}

// fill gives the file exactly perm (fchmod on the fd: the umask applied
// at creation does not), writes data and fsyncs it.
func (w *writer) fill(data []byte) error {
	if err := w.ownGroup(); err != nil {
		return err
	}
	if err := sys.Fchmod(w.fd, w.perm); err != nil {
		return err
	}
	if err := sys.WriteAll(w.fd, data); err != nil {
		return err
	}
	return sys.Fsync(w.fd)
}

// ownGroup gives the file the caller's effective gid. In a setgid
// directory a new file takes the directory's group, which the caller may
// not trust: a root-owned 2755 directory of group 65534 is secure (no one
// else can write it) and yet a secret created there with 0640 would be
// readable by group 65534. The file is still unreachable (no name, or
// mode 0, and the group bits are 0 until fchmod), so the change comes
// before anyone could open it.
func (w *writer) ownGroup() error {
	var st unix.Stat_t
	if err := sys.Fstat(w.fd, &st); err != nil {
		return err
	}
	if egid := os.Getegid(); int(st.Gid) != egid {
		return sys.Fchown(w.fd, -1, egid)
	}
	return nil
}

// publish gives the complete file its name. CreateOnly links it there,
// which fails with EEXIST if anything has appeared meanwhile; Replace
// renames it over the name, which replaces a link raced into place
// instead of following it.
func (w *writer) publish(mode WriteMode) error {
	if mode == CreateOnly {
		var err error
		if w.tmp == "" {
			// By fd: nothing anyone does to a name can change what
			// gets linked.
			err = w.linkFd(w.name)
		} else {
			if beforePublish != nil {
				beforePublish(w.tmp)
			}
			err = sys.Linkat(w.dirfd, w.tmp, w.dirfd, w.name, 0)
		}
		if err == unix.EEXIST {
			// Tell a link from a file, as the check before did.
			if e := w.existing(CreateOnly); e != nil {
				return e
			}
		}
		if err != nil {
			return err
		}
		// The file has its name (or someone else's entry has it: verify
		// says which); drop the temporary one before the directory is
		// synced, so the sync covers both.
		err = w.verify()
		w.removeTmp()
		return err
	}
	if w.tmp == "" {
		if err := w.nameTmp(); err != nil {
			return err
		}
	}
	if beforePublish != nil {
		beforePublish(w.tmp)
	}
	for range maxTmpTries {
		err := sys.Renameat2(w.dirfd, w.tmp, w.dirfd, w.name, 0)
		switch err {
		case nil:
			// The rename moved the temporary name away. Nothing should
			// be there now; if something is, removeTmp leaves it unless
			// ours.
			verr := w.verify()
			w.removeTmp()
			return verr
		case unix.EISDIR, unix.ENOTEMPTY, unix.EEXIST:
			return ErrNotRegular // a directory appeared at the name
		case unix.EPERM:
			if err = w.notOurs(); err == unix.ENOENT {
				continue // the entry in the way is gone: try again
			}
		}
		return err
	}
	return fmt.Errorf("%w: others keep planting entries at the name in this sticky directory", ErrInsecure)
}

// notOurs explains an EPERM from the rename over the name. In a sticky
// directory only the owner of an entry, the directory's owner and
// CAP_FOWNER may replace it (rename(2): EPERM), so someone else's entry
// appeared at the name after the first check: a link is ErrSymlink, as
// it would have been then; anything else of another user is
// ErrInsecure, since the directory lets others hold the name. ENOENT
// means the entry has gone again (an attacker re-planting a link in a
// loop) and the rename may be tried again; an entry of our own leaves
// the EPERM as it is (an immutable file, a security module).
func (w *writer) notOurs() error {
	var st unix.Stat_t
	switch err := sys.Fstatat(w.dirfd, w.name, &st, unix.AT_SYMLINK_NOFOLLOW); err {
	case nil:
	case unix.ENOENT:
		return unix.ENOENT
	default:
		return unix.EPERM
	}
	switch {
	case st.Mode&unix.S_IFMT == unix.S_IFLNK:
		return resolve.ErrSymlink
	case int(st.Uid) != os.Geteuid():
		return fmt.Errorf("%w: the sticky directory keeps uid %d's entry at the name from being replaced", ErrInsecure, st.Uid)
	}
	return unix.EPERM
}

// nameTmp gives an O_TMPFILE a fresh temporary name, for the rename.
func (w *writer) nameTmp() error {
	for range maxTmpTries {
		name, err := w.tmpName()
		if err != nil {
			return err
		}
		err = w.linkFd(name)
		if err == unix.EEXIST {
			continue
		}
		if err != nil {
			return err
		}
		w.tmp = name
		return nil
	}
	return unix.EEXIST
}

// linkFd links the temporary file, by its fd, at name in the directory.
// linkat(fd, "", AT_EMPTY_PATH) needs CAP_DAC_READ_SEARCH (ENOENT
// without it); linkat(2) documents the alternative for everyone else:
// linking /proc/self/fd/N with AT_SYMLINK_FOLLOW, which leads to the very
// inode the fd holds.
func (w *writer) linkFd(name string) error {
	if !noEmptyPathLink {
		err := sys.Linkat(w.fd, "", w.dirfd, name, unix.AT_EMPTY_PATH)
		if err != unix.ENOENT && err != unix.EPERM {
			return err
		}
	}
	fdDir, err := procSelfFd()
	if err != nil {
		return err
	}
	defer sys.Close(fdDir)
	return sys.Linkat(fdDir, strconv.Itoa(w.fd), w.dirfd, name, unix.AT_SYMLINK_FOLLOW)
}

// cleanup removes the temporary name, if it still has one and it is
// still ours, through the held directory fd, and closes the file.
func (w *writer) cleanup() {
	w.removeTmp()
	if w.fd >= 0 {
		sys.Close(w.fd)
		w.fd = -1
	}
}
