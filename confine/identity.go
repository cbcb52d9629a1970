package confine

import (
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path"
	"strconv"
	"strings"

	"github.com/pathguard/pathguard/internal/resolve"
)

// ErrChanged means that the file a FileID names is no longer the one at
// its path: the path now leads to another file, or to none. It matches
// fs.ErrNotExist, since the identified file is gone from that path (an
// HTTP handler maps it to 404 or 410).
var ErrChanged error = &policyError{"file changed since it was identified", fs.ErrNotExist}

// ErrSpecialFile means that a name leads to a device, FIFO or socket
// where only regular files and directories are opened (NoSpecialFiles,
// OpenID). Nothing was opened. It matches fs.ErrPermission.
var ErrSpecialFile error = &policyError{"not a regular file or directory", fs.ErrPermission}

// policyError is a sentinel that also matches one generic error, so a
// caller that maps only io/fs errors (http.FileServerFS) still answers
// correctly.
type policyError struct {
	msg   string
	alike error
}

func (e *policyError) Error() string        { return e.msg }
func (e *policyError) Is(target error) bool { return target == e.alike }

// A FileID names one file in a Root by what it is, not only by where it
// is: the path its name led to, relative to the root, and the identity of
// the file found there. [Root.OpenID] opens the path again and returns
// the file only if it is that very file, so a name that was swapped for a
// link, or a file that was replaced, renamed over or deleted, is refused
// with [ErrChanged] instead of serving something else.
//
// The identity is the device and inode number, and, because a file system
// reuses the inode number of a deleted file, also the file's birth time
// (statx STATX_BTIME) and its file handle (name_to_handle_at, which holds
// the inode's generation number on ext4, XFS, btrfs and tmpfs). Each is
// recorded where the file system provides it; a FileID records what it
// had, and OpenID demands exactly the same of the file it opens. Where a
// file system provides neither, Identify refuses with
// errors.ErrUnsupported rather than hand out an identity that a new file
// with a recycled inode number would match.
//
// The zero FileID names nothing. FileIDs are comparable with ==: equal
// FileIDs name the same file at the same path.
//
// The text form (MarshalText) holds no secret, but it does reveal the
// path, device and inode number to whoever reads it. The device number
// can change across a reboot or remount; a FileID is meant to live for
// minutes or hours, not to outlast the machine's configuration: after such
// a change OpenID fails closed, with ErrChanged.
type FileID struct {
	path     string // clean, slash-separated, relative to the root; "." for the root
	dev, ino uint64
	hasBirth bool
	birthSec int64
	birthNs  uint32
	fhType   int32
	fh       string // the opaque file handle; "" when there is none
}

// Path returns the path the FileID names, relative to its root: clean,
// slash-separated, "." for the root itself. It is the path the name led
// to when it was identified, every link followed.
func (id FileID) Path() string { return id.path }

// IsZero reports whether id is the zero FileID, which names nothing.
func (id FileID) IsZero() bool { return id == FileID{} }

// textVersion starts the text form. A later version would start with
// another prefix; UnmarshalText refuses any it does not know.
const textVersion = "v1"

// MarshalText returns the text form of id:
//
//	v1:DEV:INO:BIRTH:HANDLE:PATH
//
// DEV and INO in decimal; BIRTH as SECONDS.NANOSECONDS (nine digits) since
// the Unix epoch, or "-" when unknown; HANDLE as TYPE.HEX (the handle type
// in decimal, its bytes in lower-case hex), or "-" when there is none;
// then the path, unescaped, to the end of the text. The form is stable:
// the same FileID always gives the same bytes, and UnmarshalText accepts
// only text that MarshalText could have written. The zero FileID cannot
// be marshalled.
func (id FileID) MarshalText() ([]byte, error) {
	if err := id.check(); err != nil {
		return nil, err
	}
	return []byte(id.text()), nil
}

// String returns the text form of id, or "<zero FileID>".
func (id FileID) String() string {
	if id.IsZero() {
		return "<zero FileID>"
	}
	return id.text()
}

func (id FileID) text() string {
	var b strings.Builder
	b.WriteString(textVersion)
	b.WriteByte(':')
	b.WriteString(strconv.FormatUint(id.dev, 10))
	b.WriteByte(':')
	b.WriteString(strconv.FormatUint(id.ino, 10))
	b.WriteByte(':')
	if id.hasBirth {
		fmt.Fprintf(&b, "%d.%09d", id.birthSec, id.birthNs)
	} else {
		b.WriteByte('-')
	}
	b.WriteByte(':')
	if id.fh != "" {
		b.WriteString(strconv.FormatInt(int64(id.fhType), 10))
		b.WriteByte('.')
		b.WriteString(hex.EncodeToString([]byte(id.fh)))
	} else {
		b.WriteByte('-')
	}
	b.WriteByte(':')
	b.WriteString(id.path)
	return b.String()
}

// maxHandle is the kernel's MAX_HANDLE_SZ: no file handle is longer.
const maxHandle = 128

// errBadFileID is what UnmarshalText and MarshalText return for text or a
// FileID that is not well formed. It matches ErrInvalid.
func errBadFileID(why string) error {
	return fmt.Errorf("confine: malformed FileID: %s: %w", why, resolve.ErrInvalid)
}

// check reports whether id could have come from Identify: a clean
// relative path, an identity beyond the inode number, sane fields.
func (id FileID) check() error {
	switch {
	case id.IsZero():
		return errBadFileID("zero FileID")
	case !localClean(id.path):
		return errBadFileID("path is not clean and relative")
	case !id.hasBirth && id.fh == "":
		return errBadFileID("neither birth time nor file handle")
	case !id.hasBirth && (id.birthSec != 0 || id.birthNs != 0):
		return errBadFileID("birth time without its flag")
	case id.birthNs >= 1e9:
		return errBadFileID("nanoseconds out of range")
	case len(id.fh) > maxHandle:
		return errBadFileID("file handle too long")
	case id.fh == "" && id.fhType != 0:
		return errBadFileID("handle type without a handle")
	}
	return nil
}

// localClean reports whether p is a path Resolve could return: "." or a
// clean, relative, slash-separated path that does not start with "..",
// and that the Root accepts as a name.
func localClean(p string) bool {
	if resolve.Validate(p) != nil || path.Clean(p) != p || path.IsAbs(p) {
		return false
	}
	return p != ".." && !strings.HasPrefix(p, "../")
}

// UnmarshalText sets id from its text form (see MarshalText). Text that
// MarshalText would not have written byte for byte (another version,
// leading zeros, upper-case hex, a path that is not clean and relative,
// neither birth time nor handle) is refused with an error matching
// ErrInvalid, and id is left unchanged.
func (id *FileID) UnmarshalText(text []byte) error {
	f := strings.SplitN(string(text), ":", 6)
	if len(f) != 6 || f[0] != textVersion {
		return errBadFileID("not a " + textVersion + " FileID")
	}
	var n FileID
	var err error
	if n.dev, err = strconv.ParseUint(f[1], 10, 64); err != nil {
		return errBadFileID("device")
	}
	if n.ino, err = strconv.ParseUint(f[2], 10, 64); err != nil {
		return errBadFileID("inode")
	}
	if f[3] != "-" {
		sec, ns, ok := strings.Cut(f[3], ".")
		if !ok || len(ns) != 9 {
			return errBadFileID("birth time")
		}
		if n.birthSec, err = strconv.ParseInt(sec, 10, 64); err != nil {
			return errBadFileID("birth time")
		}
		v, err := strconv.ParseUint(ns, 10, 32)
		if err != nil {
			return errBadFileID("birth time")
		}
		n.hasBirth, n.birthNs = true, uint32(v)
	}
	if f[4] != "-" {
		typ, h, ok := strings.Cut(f[4], ".")
		t, err := strconv.ParseInt(typ, 10, 32)
		if !ok || err != nil {
			return errBadFileID("file handle type")
		}
		b, err := hex.DecodeString(h)
		if err != nil || len(b) == 0 {
			return errBadFileID("file handle")
		}
		n.fhType, n.fh = int32(t), string(b)
	}
	n.path = f[5]
	if err := n.check(); err != nil {
		return err
	}
	// One text per FileID: anything MarshalText would write differently
	// ("+1", "01", upper-case hex) is refused, so a FileID's text can be
	// compared, signed and logged as bytes.
	if n.text() != string(text) {
		return errBadFileID("not in canonical form")
	}
	*id = n
	return nil
}

// Identify returns the FileID of the file that name leads to in the root,
// following a final link (as Stat does). The FileID's path is where name
// really led, as Resolve returns it; the Root checks, before returning,
// that opening that path leads to the same file, and retries a bounded
// number of times if the tree changed in between.
//
// Where the file system provides neither a birth time nor a file handle,
// Identify fails with an error matching errors.ErrUnsupported. Outside
// Linux it always does.
//
// If there is an error, it will be of type *fs.PathError.
func (r *Root) Identify(name string) (FileID, error) { return r.r.identify(name) }

// OpenID opens, for reading, the file that id names: it resolves id's
// path in the root, like any name (with the Root's mode and flags), and
// returns the file only if it is the very file that was identified (same
// device, inode, birth time and file handle, as recorded). Otherwise it
// fails with an error matching ErrChanged, and nothing is opened for
// reading: the check is made on an O_PATH descriptor, which the file is
// then reopened from (through a checked procfs handle), so a device or
// FIFO swapped in is never opened. A directory is opened as a directory;
// a device, FIFO or socket, even the identified one, is refused with
// ErrSpecialFile.
//
// When the path no longer resolves (removed, now a link that leads out
// of the root, now a link the Root refuses), the error matches both
// ErrChanged and the resolution error (fs.ErrNotExist, ErrEscape,
// ErrSymlink...).
//
// Outside Linux it fails with errors.ErrUnsupported.
//
// If there is an error, it will be of type *fs.PathError.
func (r *Root) OpenID(id FileID) (*os.File, error) {
	if err := id.check(); err != nil {
		return nil, &fs.PathError{Op: "openid", Path: id.path, Err: err}
	}
	return r.r.openID(id)
}
