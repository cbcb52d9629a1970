package securepath

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strings"
	"syscall"

	"github.com/pathguard/pathguard/confine"
	"github.com/pathguard/pathguard/internal/resolve"
)

var (
	// ErrInsecure means a directory on the way to the target, or the
	// target itself, can be changed by someone the Policy does not trust.
	// Report.Err, OpenDir and Open return errors that match it, and so
	// does WriteFile when someone else replaced its temporary file.
	ErrInsecure = errors.New("insecure directory")

	// ErrNotRegular means the entry at a name is neither a regular file
	// nor a symlink (a directory, device, FIFO or socket) where only a
	// regular file will do.
	ErrNotRegular = errors.New("not a regular file")
)

// Policy says whom a directory may belong to and who may write it.
//
// Root (uid 0) and the effective uid of the process are always trusted;
// TrustedUIDs adds users. TrustedGIDs lists the groups whose members are
// all trusted: a group-writable directory is acceptable only when its
// group is listed here. No group is ever trusted by inference, not even
// a "private" group that shares its name with the user. A nil *Policy
// trusts root and the effective uid, and no group.
type Policy struct {
	TrustedUIDs []int
	TrustedGIDs []int
}

func (p *Policy) trustedUID(uid uint32) bool {
	if uid == 0 || int(uid) == os.Geteuid() {
		return true
	}
	return p != nil && slices.Contains(p.TrustedUIDs, int(uid))
}

func (p *Policy) trustedGID(gid uint32) bool {
	return p != nil && slices.Contains(p.TrustedGIDs, int(gid))
}

// Writable reports why someone p does not trust can change the file or
// directory open as fd (any descriptor, O_PATH included): its owner is
// not trusted, or others, a group p does not trust, or a POSIX access
// ACL can write it. These are the rules Check applies to each directory
// on its own; sticky does not help here, since a sticky directory still
// lets others add entries. It returns "" when nobody untrusted can, and
// "" for a symlink, whose mode means nothing. fd is judged as it is: no
// link is followed and no name looked up.
//
// Outside Linux, Writable returns errors.ErrUnsupported.
func (p *Policy) Writable(fd uintptr) (string, error) {
	if errPlatform != nil {
		return "", errPlatform
	}
	return writable(int(fd), p)
}

// Verdict is the judgement on one directory. The zero value is Insecure,
// so an entry that was never judged is never taken for secure.
type Verdict uint8

const (
	// Insecure: someone untrusted owns the directory or can change the
	// entries the walk relies on.
	Insecure Verdict = iota
	// Secure: the owner is trusted and nobody untrusted can change the
	// entries the walk relies on.
	Secure
)

func (v Verdict) String() string {
	if v == Secure {
		return "secure"
	}
	return "insecure"
}

// Entry describes one directory met on the way to the target.
type Entry struct {
	// Path is the directory as the walk reached it: absolute, with every
	// symlink met on the way already replaced by its target.
	Path string
	// UID, GID and Mode are the directory's owner, group and mode (the
	// permission bits plus fs.ModeDir, fs.ModeSticky, fs.ModeSetgid...)
	// from fstat on the held descriptor.
	UID, GID int
	Mode     fs.FileMode
	// Verdict is Secure or Insecure.
	Verdict Verdict
	// Reason says why the directory is insecure, and notes what does
	// not change the verdict but matters for files created there (a
	// default ACL; setgid with a group the Policy does not trust). It is
	// empty when there is nothing to say.
	Reason string
	// DefaultACL reports a system.posix_acl_default attribute: files
	// created in the directory may be more accessible than their mode
	// says (WriteFile's fchmod narrows the group class only through the
	// ACL mask).
	DefaultACL bool
}

// Report is the result of Check: one Entry per directory met on the way
// to the target, in the order the walk met them, from "/" down. A
// directory reached more than once (through a symlink or "..") appears
// once.
type Report struct {
	// Path is the path given to Check.
	Path    string
	Entries []Entry
}

// Err returns nil when every directory is secure, and otherwise an
// *fs.PathError naming the first insecure directory, with an Err that
// matches ErrInsecure and says why.
func (r *Report) Err() error {
	if r == nil {
		return &fs.PathError{Op: "check", Err: fmt.Errorf("%w: no report", ErrInsecure)}
	}
	for _, e := range r.Entries {
		if e.Verdict != Secure {
			return &fs.PathError{Op: "check", Path: e.Path, Err: fmt.Errorf("%w: %s", ErrInsecure, e.Reason)}
		}
	}
	if len(r.Entries) == 0 {
		return &fs.PathError{Op: "check", Path: r.Path, Err: fmt.Errorf("%w: nothing was checked", ErrInsecure)}
	}
	return nil
}

// String lists the entries, one a line, the way an auditor reads them.
func (r *Report) String() string {
	var b strings.Builder
	for _, e := range r.Entries {
		fmt.Fprintf(&b, "%-8s %v %5d %5d %s", e.Verdict, e.Mode, e.UID, e.GID, e.Path)
		if e.Reason != "" {
			fmt.Fprintf(&b, ": %s", e.Reason)
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// Check walks from "/" down to the directory path and judges every
// directory it meets (CERT FIO15-C, "Ensure that file operations are
// performed in a secure directory").
//
// A directory is secure when its owner is trusted and nobody untrusted
// can write it. It is writable by someone untrusted when it has the
// other-write bit, the group-write bit with a group not in
// Policy.TrustedGIDs, or any POSIX access ACL (with an ACL the group bits
// are only a mask). An ancestor that others can write is still acceptable
// when it is sticky and the entry the walk passes through in it (a
// directory or a symlink) is owned by a trusted user, as in /tmp/mine:
// others can then create and remove their own entries, not that one. The
// target itself must not be writable by anyone untrusted, sticky or not.
//
// Every step opens one name relative to the directory before it with
// O_PATH|O_NOFOLLOW and judges the descriptor with fstat, so the verdict
// is about the very directories walked. Symlinks are followed by walking
// their target the same way (relative to the directory holding the link,
// or from "/"), at most 40 of them (ELOOP beyond).
//
// path must be absolute; a relative or empty path is an error matching
// canon.ErrInvalid. A path that does not exist, leads through a file
// (ENOTDIR) or cannot be walked (EACCES) is an error from Check, not a
// verdict; the *Report is nil then. Otherwise the verdict is in the
// Report: call Report.Err.
//
// Check's verdict is advisory: the names may change after it returns.
// Use OpenDir or Open to act on the directories that were judged.
//
// If there is an error, it will be of type *fs.PathError. Outside Linux,
// Check returns errors.ErrUnsupported.
func Check(path string, p *Policy) (*Report, error) {
	if errPlatform != nil {
		return nil, &fs.PathError{Op: "check", Path: path, Err: errPlatform}
	}
	if err := checkPath(path); err != nil {
		return nil, &fs.PathError{Op: "check", Path: path, Err: err}
	}
	return check(path, p)
}

// OpenDir checks the directory path as Check does and, when it is
// secure, returns a Root on that very directory: the descriptor the walk
// judged becomes the Root (confine.NewRoot), with no second lookup by
// name, so renaming the directory away and putting another in its place
// after the check changes nothing for the Root. opts configure the Root
// as they do for confine.OpenRoot.
//
// When the directory is insecure, OpenDir returns an error matching
// ErrInsecure (Report.Err). If there is an error, it will be of type
// *fs.PathError. Outside Linux, OpenDir returns errors.ErrUnsupported.
func OpenDir(path string, p *Policy, opts ...confine.Option) (*confine.Root, error) {
	if errPlatform != nil {
		return nil, &fs.PathError{Op: "opendir", Path: path, Err: errPlatform}
	}
	if err := checkPath(path); err != nil {
		return nil, &fs.PathError{Op: "opendir", Path: path, Err: err}
	}
	return openDir(path, p, opts)
}

// Open is CERT's whole flow in one call: it checks that dir is a secure
// directory (as OpenDir), resolves unsafePath beneath it, and opens the
// result for reading on the held descriptors. The rule applies below dir
// too: every directory the resolution enters is judged as an ancestor in
// Check, every symlink followed in a sticky directory must be owned by a
// trusted user, and the directory that holds the opened file (or the
// opened directory itself) must not be writable by anyone untrusted.
//
// unsafePath is interpreted as confine interprets names given to a Root
// with opts: relative to dir, an escape ("..", an absolute name or link)
// is an error matching confine.ErrEscape, unless confine.InRoot is
// given. unsafePath is resolved once, by the engine's walk in user space
// on held descriptors, with the mode and flags of a Root made with opts
// (so NoSymlinks and NoXDev apply); each step is judged as it is taken,
// and the file is opened in its held parent and must be the very inode
// judged.
//
// Only regular files and directories are opened; anything else (a FIFO
// that would block, a device) is ErrNotRegular.
//
// If there is an error, it will be of type *fs.PathError. Outside Linux,
// Open returns errors.ErrUnsupported.
func Open(dir, unsafePath string, p *Policy, opts ...confine.Option) (*os.File, error) {
	if errPlatform != nil {
		return nil, &fs.PathError{Op: "open", Path: dir, Err: errPlatform}
	}
	if err := checkPath(dir); err != nil {
		return nil, &fs.PathError{Op: "open", Path: dir, Err: err}
	}
	if err := resolve.Validate(unsafePath); err != nil {
		return nil, &fs.PathError{Op: "open", Path: unsafePath, Err: err}
	}
	return open(dir, unsafePath, p, opts)
}

// WriteMode says what WriteFile does when the name exists.
type WriteMode uint8

const (
	// CreateOnly publishes the file only if nothing exists at the name;
	// an existing regular file is fs.ErrExist and is left as it was.
	CreateOnly WriteMode = iota + 1
	// Replace atomically replaces an existing regular file: readers see
	// the old content or the new, never a mix.
	Replace
)

// WriteFile writes data to the file name in root, for secrets: it never
// writes through a symlink, never shows a partial file and gives the file
// exactly perm, whatever the umask.
//
// The data goes into an unnamed O_TMPFILE in the directory that holds
// name (or, where the file system lacks O_TMPFILE, a new
// ".<name>.<16 hex digits>.tmp" created with O_EXCL|O_NOFOLLOW), which is
// fchmod-ed to perm, written and fsync-ed before it gets a name. Then
// CreateOnly links it at name (atomically failing if the name exists) and
// Replace renames it over name; the directory is fsync-ed last, and its
// error returned.
//
// An existing symlink at name is refused with an error matching
// confine.ErrSymlink, with or without Replace, and left in place; a link
// raced into place after that check is replaced by the rename, never
// written through. Any other entry that is not a regular file is
// ErrNotRegular. CreateOnly over an existing file is fs.ErrExist. A name
// that escapes root is confine.ErrEscape, as the Root decides it: with
// confine.InRoot nothing escapes, and ".." is the root. A name whose last
// component is "." or "..", or that ends in a slash, names a directory:
// it is resolved through root like any other (so it can still be
// confine.ErrEscape, fs.ErrNotExist or ENOTDIR) and otherwise refused
// with EISDIR. perm bits outside 0o777 are canon.ErrInvalid.
//
// Replace does not preserve the replaced file's owner, group, extended
// attributes or hard links: the new file is a new inode, owned by the
// caller, with perm. Its group is the caller's effective gid, even in a
// setgid directory, where a new file would take the directory's group
// and perm's group bits would hand the secret to that group's members
// (Check notes a setgid directory of a group the Policy does not trust).
// A default ACL on the directory can still widen access to the new file
// (Check reports such directories).
//
// WriteFile is meant for a Root from OpenDir: a secure directory, where
// nobody untrusted can rename entries (in a sticky directory others
// cannot rename over entries they do not own). Replace, and CreateOnly
// where O_TMPFILE is missing, publish the file by its temporary name, so
// in a directory writable by untrusted users they cannot be atomic
// against them: such a user can rename an entry of their own over the
// temporary name just before it is published, and their entry takes
// name. WriteFile checks, after publishing, that name holds the very
// file it wrote (by device and inode, without following a link); when it
// does not, WriteFile returns an error matching ErrInsecure and leaves
// name as it found it, since the entry there may as well be a concurrent
// writer's. The same error is returned if another writer replaces or
// removes name in the instant between the publishing and that check.
// In a sticky directory (such as /tmp) another user's entry raced in at
// name cannot be replaced (rename(2) fails with EPERM there): WriteFile
// then returns an error matching confine.ErrSymlink when the entry is a
// link and ErrInsecure otherwise, and the entry is left in place.
//
// If there is an error, it will be of type *fs.PathError. Outside Linux,
// WriteFile returns errors.ErrUnsupported.
func WriteFile(root *confine.Root, name string, data []byte, perm fs.FileMode, mode WriteMode) error {
	if errPlatform != nil {
		return &fs.PathError{Op: "writefile", Path: name, Err: errPlatform}
	}
	if perm&^fs.ModePerm != 0 || (mode != CreateOnly && mode != Replace) {
		return &fs.PathError{Op: "writefile", Path: name, Err: resolve.ErrInvalid}
	}
	if err := resolve.Validate(name); err != nil {
		return &fs.PathError{Op: "writefile", Path: name, Err: err}
	}
	if root == nil {
		return &fs.PathError{Op: "writefile", Path: name, Err: fs.ErrInvalid}
	}
	return writeFile(root, name, data, perm, mode)
}

// WriteFilePath is WriteFile for a command line that was given a path:
// it opens the directory that holds path as a confine.Root and writes the
// last component there with WriteFile, so the file itself is never
// reached through a symlink, while the directory, like the argument of
// confine.OpenRoot, is trusted as given (links in it are followed, and it
// is not judged: use OpenDir and WriteFile to judge it too).
//
// path is split at its last slash, not cleaned: "dir/" names a directory
// and is refused with EISDIR rather than read as "dir", and a last
// component of "." or ".." is EISDIR as well. A path with no slash is
// written in the working directory. Errors are those of WriteFile and of
// confine.OpenRoot for the directory, as an *fs.PathError that names path.
func WriteFilePath(path string, data []byte, perm fs.FileMode, mode WriteMode) error {
	fail := func(err error) error {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return &fs.PathError{Op: "writefile", Path: path, Err: err}
	}
	if errPlatform != nil {
		return fail(errPlatform)
	}
	if err := resolve.Validate(path); err != nil {
		return fail(err)
	}
	dir, name := ".", path
	if i := strings.LastIndexByte(path, '/'); i >= 0 {
		dir, name = path[:i+1], path[i+1:]
	}
	if name == "" || name == "." || name == ".." {
		return fail(syscall.EISDIR)
	}
	root, err := confine.OpenRoot(dir)
	if err != nil {
		return fail(err)
	}
	defer root.Close()
	if err := WriteFile(root, name, data, perm, mode); err != nil {
		return fail(err)
	}
	return nil
}

// checkPath accepts absolute, valid paths only.
func checkPath(path string) error {
	if err := resolve.Validate(path); err != nil {
		return err
	}
	if path[0] != '/' {
		return resolve.ErrInvalid
	}
	return nil
}
