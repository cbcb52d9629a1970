package extract

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"
	"syscall"
	"time"

	"github.com/pathguard/pathguard/canon"
	"github.com/pathguard/pathguard/confine"
)

// header is one archive entry, whatever the format.
type header struct {
	name  string      // as in the archive
	kind  Kind        //
	mode  fs.FileMode // permission and set-id bits as the archive says
	link  string      // symlink target, or hard link target name
	size  int64       // the size the archive claims, -1 if unknown
	mtime time.Time   // zero: leave the time the file got
	uid   int
	gid   int
	dev   uint64 // device number of a device entry
	// compressed is a zip entry's compressed size, for the ratio limit;
	// -1 when the format does not compress entries one by one.
	compressed int64
	// body returns the entry's contents (a file's data, or a symlink
	// target stored as data in zip); nil when there are none.
	body func() (io.Reader, error)
	// note, if set, says why the entry is skipped whatever it is (an
	// unknown tar type flag).
	note string
}

// extractor is the one engine behind Tar, Zip, FS and the scans: it takes
// headers in archive order and acts on a target, which is a confine.Root
// with NoSymlinks semantics (rootTarget) or an in-memory tree that writes
// nothing (simTarget).
//
// The state it keeps is what makes the rules checkable across entries:
// which directories it created (their modes are applied last), which
// directories it knows exist (to spare lookups; the target re-checks
// every name anyway), and which regular files it wrote (the only valid
// hard link targets).
type extractor struct {
	cfg  config
	t    target
	scan bool // keep going past refusals (Scan): nothing is written anyway
	rep  Report

	entries  int
	buf      []byte
	dirs     map[string]*dirRec // created by this extraction
	dirOrder []string
	known    map[string]bool // directories known to exist
	files    map[string]any  // regular files written: name -> identity
	held     int             // directory handles held open
	progress int64           // Written at the last progress call
}

// dirRec is a directory this extraction created: what to apply to it at
// the end, and the handle to apply it on.
type dirRec struct {
	mode  fs.FileMode
	mtime time.Time
	owner *owner
	h     dirHandle // nil: reopen at the end and check its identity
	id    any
}

type owner struct{ uid, gid int }

// maxHeld bounds the directory handles held until the end; past it a
// directory's identity is kept instead and checked when it is reopened,
// so a million directories cannot exhaust RLIMIT_NOFILE.
const maxHeld = 256

// progressEvery is how many bytes of one file pass between progress calls.
const progressEvery = 8 << 20

func newExtractor(t target, cfg config) *extractor {
	return &extractor{
		cfg:   cfg,
		t:     t,
		dirs:  map[string]*dirRec{},
		known: map[string]bool{".": true},
		files: map[string]any{},
	}
}

// fatal reports whether err stops the extraction whatever the options:
// limits, the context, and failures of the file system or the archive.
// The rest are refusals, which SkipRefused turns into skips.
func fatal(err error) bool {
	for _, s := range []error{canon.ErrInvalid, confine.ErrEscape, confine.ErrSymlink, fs.ErrExist, ErrHardLink, syscall.ENOTDIR} {
		if errors.Is(err, s) {
			return errors.Is(err, ErrLimit)
		}
	}
	return true
}

// add handles one entry. A non-nil error stops the extraction: it is the
// entry's error, naming it.
func (x *extractor) add(h *header) error {
	x.entries++
	e := Entry{Name: h.name, Kind: h.kind, Link: h.link}
	var err error
	switch {
	case x.cfg.limits.Entries >= 0 && x.entries > x.cfg.limits.Entries:
		err = limitErr("more than %d entries", x.cfg.limits.Entries)
	case x.cfg.ctx.Err() != nil:
		err = ctxErr(x.cfg.ctx.Err())
	default:
		e.Size, e.Reason, err = x.entry(h)
	}
	switch {
	case err == nil && e.Reason != "" && e.Kind != KindDir:
		e.Action = Skipped
	case err == nil:
		e.Action = Written
	case !fatal(err) && x.cfg.skip:
		e.Action, e.Reason, e.Err = Skipped, reason(err), wrap(h.name, err)
	default:
		e.Action, e.Reason, e.Err = Refused, reason(err), wrap(h.name, err)
	}
	x.rep.Entries = append(x.rep.Entries, e)
	x.report(h.name)
	if e.Action == Refused && (fatal(err) || !x.scan) {
		return e.Err
	}
	return nil
}

// reason is the text of err for a Report line, without the wrapping that
// repeats the entry's own name.
func reason(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) && pe.Op == "extract" {
		err = pe.Err
	}
	return err.Error()
}

// wrap names the entry in err, once.
func wrap(name string, err error) error {
	return &fs.PathError{Op: "extract", Path: name, Err: err}
}

type limitError struct {
	msg string
	err error // the context's error, if that is the limit
}

func (e *limitError) Error() string        { return "limit exceeded: " + e.msg }
func (e *limitError) Unwrap() error        { return e.err }
func (e *limitError) Is(target error) bool { return target == ErrLimit }

func limitErr(format string, a ...any) error {
	return &limitError{msg: fmt.Sprintf(format, a...)}
}

func ctxErr(err error) error { return &limitError{msg: err.Error(), err: err} }

func (x *extractor) report(name string) {
	if x.cfg.progress != nil {
		x.progress = x.rep.Written
		x.cfg.progress(Progress{Entries: len(x.rep.Entries), Written: x.rep.Written, Name: name})
	}
}

// entry creates one entry and returns the bytes written and, for an
// entry skipped by policy, why.
func (x *extractor) entry(h *header) (int64, string, error) {
	if h.note != "" {
		return 0, h.note, nil
	}
	name, err := checkName(h.name, x.cfg.limits)
	if err != nil {
		return 0, "", err
	}
	// A trailing slash says "directory": on anything else it would be a
	// name rewritten, not kept.
	if h.kind != KindDir && strings.HasSuffix(h.name, "/") {
		return 0, "", canon.ErrInvalid
	}
	if name == "." && h.kind != KindDir {
		return 0, "", canon.ErrInvalid
	}
	switch h.kind {
	case KindDir:
		note, err := x.dir(name, h)
		return 0, note, err
	case KindFile:
		return x.file(name, h)
	case KindSymlink:
		return 0, "", x.symlink(name, h)
	case KindHardLink:
		return 0, "", x.hardlink(name, h)
	case KindSocket:
		return 0, "a socket is never created", nil
	case KindFIFO, KindCharDevice, KindBlockDevice:
		if !x.cfg.special {
			return 0, fmt.Sprintf("a %s is not created without WithSpecialFiles", h.kind), nil
		}
		return 0, "", x.special(name, h)
	}
	return 0, fmt.Sprintf("entry type %s is not extracted", h.kind), nil
}

// checkName refuses a name rather than rewriting it, and returns it
// cleaned of "." components and repeated or trailing slashes, which
// change nothing of its meaning. Refused: empty names, NUL bytes,
// backslashes and drive letters (another system's separators),
// absolute names (ErrEscape), any ".." component (ErrEscape when the name
// leaves the root, canon.ErrInvalid otherwise: "a/../b" means "b" only
// when a is no link), components over 255 bytes and names of 4096 bytes
// or more (canon.ErrInvalid), and names over the depth and length limits
// (ErrLimit).
func checkName(raw string, lim Limits) (string, error) {
	if raw == "" || strings.ContainsAny(raw, "\x00\\") {
		return "", canon.ErrInvalid
	}
	if len(raw) >= 2 && raw[1] == ':' && ('a' <= raw[0]|0x20 && raw[0]|0x20 <= 'z') {
		return "", canon.ErrInvalid // a drive letter: C:x, C:/x
	}
	if raw[0] == '/' {
		return "", confine.ErrEscape
	}
	clean, err := canon.Clean(raw)
	if err != nil {
		return "", canon.ErrInvalid
	}
	for _, c := range strings.Split(raw, "/") {
		if c == ".." {
			if !canon.IsLocal(clean) {
				return "", confine.ErrEscape
			}
			return "", canon.ErrInvalid
		}
	}
	if lim.NameLength >= 0 && len(clean) > lim.NameLength {
		return "", limitErr("name longer than %d bytes", lim.NameLength)
	}
	if lim.Depth >= 0 && clean != "." && strings.Count(clean, "/")+1 > lim.Depth {
		return "", limitErr("name deeper than %d components", lim.Depth)
	}
	return clean, nil
}

// linkWithinTarget reports whether a symlink at name (clean, its
// directories real ones: the extractor reached them with no link
// followed) whose target is target stays inside the root when followed
// from the link's own directory. The target must be relative, its ".."
// components must all come first and be no more than the directories
// above the link, and it must hold nothing else a Root would refuse.
// By induction every link this allows leads inside: its ".." steps stay
// in real ancestors, and its other steps only go down, through
// directories or through links that themselves lead inside.
func linkWithinTarget(name, target string) error {
	if target == "" || strings.IndexByte(target, 0) >= 0 {
		return canon.ErrInvalid
	}
	if target[0] == '/' {
		return confine.ErrEscape
	}
	depth := 0
	if d := path.Dir(name); d != "." {
		depth = strings.Count(d, "/") + 1
	}
	ups, down := 0, false
	for _, c := range strings.Split(target, "/") {
		switch c {
		case "", ".":
		case "..":
			if down {
				return confine.ErrEscape
			}
			if ups++; ups > depth {
				return confine.ErrEscape
			}
		default:
			down = true
		}
	}
	return nil
}

// parents makes sure every directory above name exists, creating the
// missing ones (mode 0o755 at the end, as an implied directory gets from
// GNU tar under umask 022). An existing symlink on the way is
// confine.ErrSymlink, anything else that is not a directory ENOTDIR.
func (x *extractor) parents(name string) error {
	dir := path.Dir(name)
	if x.known[dir] {
		return nil
	}
	comps := strings.Split(dir, "/")
	for i := range comps {
		p := strings.Join(comps[:i+1], "/")
		if x.known[p] {
			continue
		}
		if err := x.mkdir(p, &header{mode: 0o755}); err != nil {
			if errors.Is(err, fs.ErrExist) {
				err = syscall.ENOTDIR // a file where a directory must be
			}
			return &fs.PathError{Op: "mkdir", Path: p, Err: bare(err)}
		}
	}
	return nil
}

// bare strips the *fs.PathError or *os.LinkError a Root wraps its errors
// in: the entry's own error names the entry already.
func bare(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	var le *os.LinkError
	if errors.As(err, &le) {
		return le.Err
	}
	return err
}

// mkdir creates the directory name, or accepts an existing one. An
// existing symlink is confine.ErrSymlink, anything else fs.ErrExist.
func (x *extractor) mkdir(name string, h *header) error {
	err := x.t.mkdir(name)
	if err == nil {
		x.created(name, h)
		x.known[name] = true
		return nil
	}
	if !errors.Is(err, fs.ErrExist) {
		return err
	}
	k, err := x.t.kind(name)
	if err != nil {
		return err
	}
	switch k {
	case KindDir:
		x.known[name] = true
		return nil
	case KindSymlink:
		return confine.ErrSymlink
	}
	return fs.ErrExist
}

// created records a directory this extraction made, with a handle on it
// for the end.
func (x *extractor) created(name string, h *header) {
	rec := &dirRec{mode: h.mode, mtime: h.mtime, owner: x.owner(h)}
	if d, err := x.t.openDir(name); err == nil {
		rec.id = d.id()
		if x.held < maxHeld {
			rec.h = d
			x.held++
		} else {
			d.close()
		}
	}
	// Without an identity (openDir failed: the directory was swapped
	// already) the record only keeps the order; finish skips it.
	x.dirs[name] = rec
	x.dirOrder = append(x.dirOrder, name)
}

func (x *extractor) owner(h *header) *owner {
	if !x.cfg.owners || os.Geteuid() != 0 {
		return nil
	}
	return &owner{h.uid, h.gid}
}

func (x *extractor) dir(name string, h *header) (string, error) {
	if name == "." {
		return "the root itself: its mode and times are kept", nil
	}
	if err := x.parents(name); err != nil {
		return "", err
	}
	before := x.dirs[name]
	if err := x.mkdir(name, h); err != nil {
		return "", err
	}
	switch rec := x.dirs[name]; {
	case before != nil:
		// Made by this extraction earlier (as a parent, or for a
		// duplicate entry): this entry's mode and time are the ones
		// to apply.
		rec.mode, rec.mtime, rec.owner = h.mode, h.mtime, x.owner(h)
	case rec == nil:
		return "an existing directory: merged into, its mode and times kept", nil
	}
	return "", nil
}

// tempName is a fresh name beside name for Replace.
func tempName(name string) string {
	var b [8]byte
	rand.Read(b[:])
	base := ".extract-" + hex.EncodeToString(b[:]) + ".tmp"
	if d := path.Dir(name); d != "." {
		return d + "/" + base
	}
	return base
}

// replaceable checks that name may be replaced: Replace was given and
// name is no directory. It returns the error to give otherwise.
func (x *extractor) replaceable(name string, err error) error {
	if !x.cfg.replace || !errors.Is(err, fs.ErrExist) {
		return err
	}
	k, kerr := x.t.kind(name)
	if kerr != nil {
		return kerr
	}
	if k == KindDir {
		return err
	}
	return nil
}

// publish renames tmp over name, removing tmp if that fails.
func (x *extractor) publish(tmp, name string) error {
	if err := x.t.rename(tmp, name); err != nil {
		x.t.remove(tmp)
		return err
	}
	return nil
}

func (x *extractor) file(name string, h *header) (int64, string, error) {
	lim := x.cfg.limits
	if lim.FileSize >= 0 && h.size > lim.FileSize {
		return 0, "", limitErr("%d bytes claimed, more than %d for one file", h.size, lim.FileSize)
	}
	if err := x.parents(name); err != nil {
		return 0, "", err
	}
	dst := name
	f, err := x.t.create(name)
	if err != nil {
		if err := x.replaceable(name, err); err != nil {
			return 0, "", err
		}
		dst = tempName(name)
		if f, err = x.t.create(dst); err != nil {
			return 0, "", err
		}
	}
	n, err := x.copy(f, h)
	if err == nil {
		err = f.finish(h.mode.Perm(), h.mtime, x.owner(h))
	}
	id := f.id()
	if cerr := f.close(); err == nil {
		err = cerr
	}
	if err != nil {
		// The partial file goes; so do its bytes in the totals.
		x.t.remove(dst)
		x.rep.Written -= n
		return 0, "", err
	}
	if dst != name {
		if err := x.publish(dst, name); err != nil {
			x.rep.Written -= n
			return 0, "", err
		}
	}
	x.files[name] = id
	return n, "", nil
}

// copy writes h's body to w, counting what it writes against the limits.
func (x *extractor) copy(w io.Writer, h *header) (int64, error) {
	if h.body == nil {
		return 0, nil
	}
	r, err := h.body()
	if err != nil {
		return 0, err
	}
	if x.buf == nil {
		x.buf = make([]byte, 1<<20)
	}
	lim := x.cfg.limits
	var n int64
	for {
		if err := x.cfg.ctx.Err(); err != nil {
			return n, ctxErr(err)
		}
		m, rerr := r.Read(x.buf)
		if m > 0 {
			next := n + int64(m)
			switch {
			case lim.FileSize >= 0 && next > lim.FileSize:
				return n, limitErr("more than %d bytes for one file", lim.FileSize)
			case lim.TotalSize >= 0 && x.rep.Written+int64(m) > lim.TotalSize:
				return n, limitErr("more than %d bytes in all", lim.TotalSize)
			case h.compressed >= 0 && lim.Ratio >= 0 && next > lim.RatioGrace && next/max(lim.Ratio, 1) > h.compressed:
				return n, limitErr("compression ratio over %d:1 (%d bytes compressed)", lim.Ratio, h.compressed)
			}
			if _, err := w.Write(x.buf[:m]); err != nil {
				return n, err
			}
			n = next
			x.rep.Written += int64(m)
			if x.cfg.progress != nil && x.rep.Written-x.progress >= progressEvery {
				x.report(h.name)
			}
		}
		if rerr == io.EOF {
			return n, nil
		}
		if rerr != nil {
			return n, rerr
		}
	}
}

func (x *extractor) symlink(name string, h *header) error {
	switch x.cfg.links {
	case linkDeny:
		return confine.ErrSymlink
	case linkWithin:
		if err := linkWithinTarget(name, h.link); err != nil {
			return err
		}
	default:
		if h.link == "" {
			return canon.ErrInvalid
		}
	}
	if err := x.parents(name); err != nil {
		return err
	}
	return x.place(name, func(dst string) error {
		if err := x.t.symlink(h.link, dst); err != nil {
			return err
		}
		if o := x.owner(h); o != nil {
			return x.t.lchown(dst, o.uid, o.gid)
		}
		return nil
	})
}

// place runs create on name, and with Replace, when name exists, on a
// temporary name then renamed over it.
func (x *extractor) place(name string, create func(dst string) error) error {
	err := create(name)
	if err == nil {
		return nil
	}
	if err := x.replaceable(name, err); err != nil {
		return err
	}
	tmp := tempName(name)
	if err := create(tmp); err != nil {
		x.t.remove(tmp)
		return err
	}
	return x.publish(tmp, name)
}

func (x *extractor) hardlink(name string, h *header) error {
	old, err := checkName(h.link, x.cfg.limits)
	if err != nil {
		return err
	}
	id, ok := x.files[old]
	if !ok {
		// Say why, when the name leads through or to a link.
		switch k, err := x.t.kind(old); {
		case errors.Is(err, confine.ErrSymlink), err == nil && k == KindSymlink:
			return confine.ErrSymlink
		}
		return ErrHardLink
	}
	if !x.t.same(old, id) {
		return ErrHardLink
	}
	if err := x.parents(name); err != nil {
		return err
	}
	err = x.place(name, func(dst string) error {
		if err := x.t.link(old, dst); err != nil {
			return err
		}
		// old may have been swapped between the check and linkat (for a
		// link, which linkat links itself): what was made must be the
		// very file written, or it goes.
		if !x.t.same(dst, id) {
			x.t.remove(dst)
			return ErrHardLink
		}
		return nil
	})
	if err != nil {
		return err
	}
	x.files[name] = id
	return nil
}

func (x *extractor) special(name string, h *header) error {
	if err := x.parents(name); err != nil {
		return err
	}
	var typ fs.FileMode
	switch h.kind {
	case KindFIFO:
		typ = fs.ModeNamedPipe
	case KindCharDevice:
		typ = fs.ModeDevice | fs.ModeCharDevice
	default:
		typ = fs.ModeDevice
	}
	return x.place(name, func(dst string) error {
		if err := x.t.mknod(dst, typ|h.mode.Perm(), h.dev); err != nil {
			return err
		}
		if o := x.owner(h); o != nil {
			return x.t.lchown(dst, o.uid, o.gid)
		}
		return nil
	})
}

// finish applies the directories' modes, times and owners, on the
// handles held since they were made (or reopened and checked to be the
// same directory), never by name: a 0o555 directory in the archive does
// not stop its own children, and no link swapped in since is followed.
// It returns the first error.
func (x *extractor) finish() error {
	var first error
	for _, name := range x.dirOrder {
		rec := x.dirs[name]
		if rec.id == nil {
			continue
		}
		h := rec.h
		if h == nil {
			d, err := x.t.openDir(name)
			if err != nil {
				continue // gone or swapped since: nothing of ours to change
			}
			if !sameID(d.id(), rec.id) {
				d.close()
				continue
			}
			h = d
		}
		err := h.finish(rec.mode.Perm(), rec.mtime, rec.owner)
		h.close()
		rec.h = nil
		if err != nil && first == nil {
			first = &fs.PathError{Op: "extract", Path: name, Err: bare(err)}
		}
	}
	x.held = 0
	return first
}
