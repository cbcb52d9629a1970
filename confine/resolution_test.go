//go:build linux && !pathguard_osroot

package confine_test

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/pathguard/pathguard/confine"
	"github.com/pathguard/pathguard/internal/resolve"
	"github.com/pathguard/pathguard/internal/testfs"
)

// The shared resolution table. Every case runs under both modes (Beneath,
// InRoot) and both backends (openat2, walk), and the differential oracles
// below run the same cases against os.Root and against the kernel's own
// RESOLVE_IN_ROOT, so the arms cannot drift apart.
//
// Each case builds its tree fresh in <dir>/root, next to an outside world:
// <dir>/secret ("OUTSIDE") and <dir>/outdir/x ("OUTSIDE"). Most trees also
// hold root/secret ("INNER") and root/outdir/x ("INNERX"), so that an InRoot
// name that would leave the root visibly lands on the inner copy instead.

// Ops the table knows.
const (
	opOpen     = "open"     // OpenFile(name, O_RDONLY): want is the content or "<dir>"
	opNoFollow = "nofollow" // OpenFile(name, O_RDONLY|O_NOFOLLOW): as opOpen
	opStat     = "stat"     // Stat: want is "file", "dir" or "link"
	opLstat    = "lstat"    // Lstat: as opStat
	opCreate   = "create"   // OpenFile(name, O_RDWR|O_CREATE): want is the path created or opened
	opExcl     = "excl"     // OpenFile(name, O_RDWR|O_CREATE|O_EXCL): as opCreate
	opResolve  = "resolve"  // Resolve: want is the resolved path
)

// outcome is what a case expects in one mode.
type outcome struct {
	want    string
	wantErr error
}

type resolutionCase struct {
	name    string   // subtest name
	tree    []string // extra testfs entries under the root, after baseTree
	op      string   // one of the op constants; "" is opOpen
	open    string   // the name given to the Root
	want    string   // see the op constants
	wantErr error    // matched with errors.Is
	inRoot  *outcome // the InRoot expectation, where DESIGN.md says it differs
	opts    []confine.Option
	reason  string // why this is the right answer, in one line
}

func (c resolutionCase) expect(inRoot bool) outcome {
	if inRoot && c.inRoot != nil {
		return *c.inRoot
	}
	return outcome{c.want, c.wantErr}
}

// baseTree is in every case's root. "$OUT" in a link target is replaced by
// the absolute path of the directory holding the root and the outside.
var baseTree = []string{
	"f=F", "secret=INNER", "a/g=G", "a/b/h=H", "outdir/x=INNERX",
	"l => f", "lg => a/g", "lb => a/b", "lf => f",
	"esc => ../secret", "escdir => ../outdir", "back => ../root/f",
	"abs => /f", "absout => $OUT/secret", "ldotdot => ..",
	"c1 => c2", "c2 => c3", "c3 => a/g",
	"loop1 => loop2", "loop2 => loop1", "self => self",
	"dang => newfile", "dangdir => newdir/nf", "dangesc => ../created",
	"dangabs => /created", "dangslash => newdir2/", "dangout => $OUT/created",
}

// hopChain is h0 => h1 => ... => h40 => f: opening h1 follows exactly 40
// links (the kernel's MAXSYMLINKS), opening h0 follows 41.
func hopChain() []string {
	var t []string
	for i := 0; i < 40; i++ {
		t = append(t, fmt.Sprintf("h%d => h%d", i, i+1))
	}
	return append(t, "h40 => f")
}

func inRoot(want string, err error) *outcome { return &outcome{want, err} }

var resolutionCases = []resolutionCase{
	// Plain names.
	{name: "file", open: "f", want: "F", reason: "a plain file in the root"},
	{name: "nested", open: "a/b/h", want: "H", reason: "plain directories are walked"},
	{name: "root", open: ".", want: "<dir>", reason: `"." is the root itself`},
	{name: "dots", open: "./a/./g", want: "G", reason: `"." components are no-ops`},
	{name: "double-slash", open: "a//g", want: "G", reason: "repeated slashes are one separator"},
	{name: "missing", open: "nothere", wantErr: fs.ErrNotExist, reason: "a missing file is ENOENT"},
	{name: "missing-dir", open: "nothere/x", wantErr: fs.ErrNotExist, reason: "a missing directory on the way is ENOENT"},
	{name: "file-as-dir", open: "f/x", wantErr: syscall.ENOTDIR, reason: "a file in the middle of a path is ENOTDIR"},
	{name: "file-dotdot", open: "f/..", wantErr: syscall.ENOTDIR, reason: `"f/.." is ENOTDIR as in the kernel, not the root`},

	// "..".
	{name: "dotdot-inside", open: "a/../f", want: "F", reason: `".." that stays inside is fine`},
	{name: "dotdot-inside-deep", open: "a/b/../../f", want: "F", reason: `two ".." back to the root`},
	{name: "dotdot-escape", open: "../secret", wantErr: confine.ErrEscape, inRoot: inRoot("INNER", nil),
		reason: `".." above the root escapes; InRoot stays at the root`},
	{name: "dotdot-escape-later", open: "a/../../secret", wantErr: confine.ErrEscape, inRoot: inRoot("INNER", nil),
		reason: `the second ".." leaves the root`},
	{name: "dotdot-reenter", open: "../root/f", wantErr: confine.ErrEscape, inRoot: inRoot("", fs.ErrNotExist),
		reason: "leaving and coming back in is still an escape; InRoot looks for root/root/f"},

	// Absolute names and links.
	{name: "absolute-name", open: "/f", wantErr: confine.ErrEscape, inRoot: inRoot("F", nil),
		reason: "Beneath refuses absolute names; InRoot reads them from the root"},
	{name: "absolute-dotdot", open: "/../secret", wantErr: confine.ErrEscape, inRoot: inRoot("INNER", nil),
		reason: `InRoot: "/.." is the root`},
	{name: "absolute-link", open: "abs", wantErr: confine.ErrEscape, inRoot: inRoot("F", nil),
		reason: "an absolute link target is an escape in Beneath, re-rooted in InRoot"},
	{name: "absolute-link-outside", open: "absout", wantErr: confine.ErrEscape, inRoot: inRoot("", fs.ErrNotExist),
		reason: "a link to the real outside path; InRoot reads that path under the root, where it does not exist"},

	// Relative links.
	{name: "link", open: "l", want: "F", reason: "a link to a file inside"},
	{name: "link-dir", open: "lb/h", want: "H", reason: "a link to a directory inside, in the middle of the path"},
	{name: "link-dotdot", open: "lb/../g", want: "G", reason: `".." after a link is taken from the link's target (a/b/.. = a)`},
	{name: "link-escape", open: "esc", wantErr: confine.ErrEscape, inRoot: inRoot("INNER", nil),
		reason: "a relative link out of the root"},
	{name: "link-escape-dir", open: "escdir/x", wantErr: confine.ErrEscape, inRoot: inRoot("INNERX", nil),
		reason: "a link to a directory outside, in the middle"},
	{name: "link-reenter", open: "back", wantErr: confine.ErrEscape, inRoot: inRoot("", fs.ErrNotExist),
		reason: "a link out of the root and back in is an escape"},
	{name: "link-to-dotdot", open: "ldotdot/secret", wantErr: confine.ErrEscape, inRoot: inRoot("INNER", nil),
		reason: `a link whose text is ".." at the root`},
	{name: "chain", open: "c1", want: "G", reason: "a chain of three links"},
	{name: "loop", open: "loop1", wantErr: syscall.ELOOP, reason: "two links pointing at each other"},
	{name: "self-loop", open: "self", wantErr: syscall.ELOOP, reason: "a link to itself"},
	{name: "hops-40", tree: hopChain(), open: "h1", want: "F", reason: "40 links is MAXSYMLINKS: allowed"},
	{name: "hops-41", tree: hopChain(), open: "h0", wantErr: syscall.ELOOP, reason: "the 41st link is ELOOP"},
	{name: "dangling", open: "dang", wantErr: fs.ErrNotExist, reason: "a dangling link is ENOENT when opened"},

	// Trailing slashes (CVE-2026-39822, CVE-2025-22873).
	{name: "slash-dir", open: "a/", want: "<dir>", reason: "a trailing slash on a directory"},
	{name: "slash-file", open: "f/", wantErr: syscall.ENOTDIR, reason: "a trailing slash on a file is ENOTDIR"},
	{name: "slash-link-dir", open: "lb/", want: "<dir>", reason: `"link/" follows a link to a directory`},
	{name: "slash-link-file", open: "lf/", wantErr: syscall.ENOTDIR, reason: `"link/" to a file is ENOTDIR`},
	{name: "slash-link-escape", open: "escdir/", wantErr: confine.ErrEscape, inRoot: inRoot("<dir>", nil),
		reason: `"link/" must still stay inside (CVE-2026-39822)`},
	{name: "slash-dotdot", open: "../", wantErr: confine.ErrEscape, inRoot: inRoot("<dir>", nil),
		reason: `"../" is an escape too (CVE-2025-22873)`},
	{name: "slash-dotdot-inside", open: "a/../", want: "<dir>", reason: `"a/../" is the root`},
	{name: "nofollow-link", op: opNoFollow, open: "l", wantErr: syscall.ELOOP, reason: "O_NOFOLLOW on a final link is ELOOP"},
	{name: "nofollow-slash-link", op: opNoFollow, open: "lb/", want: "<dir>",
		reason: `a trailing slash follows the link even under O_NOFOLLOW, as the kernel does`},
	{name: "nofollow-slash-escape", op: opNoFollow, open: "escdir/", wantErr: confine.ErrEscape, inRoot: inRoot("<dir>", nil),
		reason: `O_NOFOLLOW does not let "link/" out either`},

	// Stat and Lstat.
	{name: "stat-link", op: opStat, open: "l", want: "file", reason: "Stat follows a final link"},
	{name: "stat-escape", op: opStat, open: "esc", wantErr: confine.ErrEscape, inRoot: inRoot("file", nil),
		reason: "Stat follows a final link only inside"},
	{name: "stat-dangling", op: opStat, open: "dang", wantErr: fs.ErrNotExist, reason: "Stat of a dangling link"},
	{name: "lstat-link", op: opLstat, open: "l", want: "link", reason: "Lstat describes a final link itself"},
	{name: "lstat-escaping-link", op: opLstat, open: "esc", want: "link", reason: "a final link is not followed, so it cannot escape"},
	{name: "lstat-dotdot-link", op: opLstat, open: "a/../l", want: "link", reason: `".." before a final link`},
	{name: "lstat-slash-link", op: opLstat, open: "lb/", want: "dir", reason: `Lstat of "link/" follows the link`},
	{name: "lstat-slash-escape", op: opLstat, open: "escdir/", wantErr: confine.ErrEscape, inRoot: inRoot("dir", nil),
		reason: `Lstat of "link/" must stay inside`},

	// Creation.
	{name: "create", op: opCreate, open: "newf", want: "newf", reason: "a new file in the root"},
	{name: "create-existing", op: opCreate, open: "f", want: "f", reason: "O_CREATE without O_EXCL opens an existing file"},
	{name: "create-dotdot", op: opCreate, open: "a/../newg", want: "newg", reason: `".." inside before the new name`},
	{name: "create-escape", op: opCreate, open: "../created", wantErr: confine.ErrEscape, inRoot: inRoot("created", nil),
		reason: "creating above the root"},
	{name: "create-dangling", op: opCreate, open: "dang", want: "newfile", reason: "O_CREATE follows a dangling link inside and creates its target"},
	{name: "create-dangling-missing-dir", op: opCreate, open: "dangdir", wantErr: fs.ErrNotExist,
		reason: "the dangling target's directory does not exist"},
	{name: "create-dangling-escape", op: opCreate, open: "dangesc", wantErr: confine.ErrEscape, inRoot: inRoot("created", nil),
		reason: "a dangling link out of the root creates nothing outside"},
	{name: "create-dangling-absolute", op: opCreate, open: "dangabs", wantErr: confine.ErrEscape, inRoot: inRoot("created", nil),
		reason: "an absolute dangling link: escape, or re-rooted in InRoot"},
	{name: "create-dangling-outside", op: opCreate, open: "dangout", wantErr: confine.ErrEscape, inRoot: inRoot("", fs.ErrNotExist),
		reason: "a dangling link to the real outside path; InRoot: its directories do not exist under the root"},
	{name: "create-dangling-slash", op: opCreate, open: "dangslash", wantErr: syscall.EISDIR,
		reason: `a dangling link whose text ends in "/" cannot be created as a file`},
	{name: "create-slash", op: opCreate, open: "new/", wantErr: syscall.EISDIR, reason: `O_CREATE of "new/" is EISDIR`},
	{name: "create-dir", op: opCreate, open: "a", wantErr: syscall.EISDIR, reason: "O_CREATE|O_RDWR of a directory"},
	{name: "excl-new", op: opExcl, open: "newx", want: "newx", reason: "O_EXCL of a new name"},
	{name: "excl-existing", op: opExcl, open: "f", wantErr: fs.ErrExist, reason: "O_EXCL of an existing file"},
	{name: "excl-dangling", op: opExcl, open: "dang", wantErr: fs.ErrExist, reason: "O_CREATE|O_EXCL never follows a link, dangling or not"},
	{name: "excl-dangling-escape", op: opExcl, open: "dangesc", wantErr: fs.ErrExist, reason: "O_EXCL on an escaping dangling link: the link exists"},
	{name: "excl-link", op: opExcl, open: "l", wantErr: fs.ErrExist, reason: "O_EXCL on a link to a file"},

	// Bad input.
	{name: "empty", open: "", wantErr: resolve.ErrInvalid, reason: "an empty name"},
	{name: "nul", open: "a\x00b", wantErr: resolve.ErrInvalid, reason: "a NUL byte"},
	{name: "too-long", open: strings.Repeat("a", 4096), wantErr: resolve.ErrInvalid, reason: "4096 bytes: PATH_MAX counts the NUL"},
	{name: "longest", open: strings.Repeat("./", 2047) + "f", want: "F", reason: "4095 bytes is still acceptable"},
	{name: "long-component", open: strings.Repeat("x", 256), wantErr: resolve.ErrInvalid, reason: "a component of 256 bytes"},
	{name: "long-component-deep", open: "a/" + strings.Repeat("x", 256) + "/g", wantErr: resolve.ErrInvalid, reason: "a component of 256 bytes in the middle"},
	{name: "longest-component", open: strings.Repeat("x", 255), wantErr: fs.ErrNotExist, reason: "255 bytes is NAME_MAX: valid, just missing"},
	{name: "create-empty", op: opCreate, open: "", wantErr: resolve.ErrInvalid, reason: "no partial action on bad input"},

	// NoSymlinks.
	{name: "nosymlinks-file", open: "a/b/h", want: "H", opts: []confine.Option{confine.NoSymlinks()}, reason: "no link, no refusal"},
	{name: "nosymlinks-final", open: "l", wantErr: confine.ErrSymlink, opts: []confine.Option{confine.NoSymlinks()}, reason: "a final link is refused"},
	{name: "nosymlinks-final-eloop", open: "l", wantErr: syscall.ELOOP, opts: []confine.Option{confine.NoSymlinks()}, reason: "ErrSymlink matches ELOOP"},
	{name: "nosymlinks-middle", open: "lb/h", wantErr: confine.ErrSymlink, opts: []confine.Option{confine.NoSymlinks()}, reason: "a link in the middle is refused"},
	{name: "nosymlinks-slash", open: "lb/", wantErr: confine.ErrSymlink, opts: []confine.Option{confine.NoSymlinks()}, reason: `"link/" would follow it`},
	{name: "nosymlinks-escape", open: "esc", wantErr: confine.ErrSymlink, opts: []confine.Option{confine.NoSymlinks()}, reason: "the link is refused before its text is read"},
	{name: "nosymlinks-lstat", op: opLstat, open: "l", want: "link", opts: []confine.Option{confine.NoSymlinks()}, reason: "Lstat acts on the link itself"},
	{name: "nosymlinks-create", op: opCreate, open: "dang", wantErr: confine.ErrSymlink, opts: []confine.Option{confine.NoSymlinks()}, reason: "O_CREATE does not follow a dangling link"},

	// Resolve.
	{name: "resolve-root", op: opResolve, open: ".", want: ".", reason: "the root itself"},
	{name: "resolve-dotdot", op: opResolve, open: "a/b/..", want: "a", reason: `".." is a pop`},
	{name: "resolve-link-dotdot", op: opResolve, open: "lb/../g", want: "a/g", reason: `".." after a link`},
	{name: "resolve-chain", op: opResolve, open: "c1", want: "a/g", reason: "a chain of links"},
	{name: "resolve-slash", op: opResolve, open: "lb/", want: "a/b", reason: "a trailing slash is not part of the answer"},
	{name: "resolve-escape", op: opResolve, open: "esc", wantErr: confine.ErrEscape, inRoot: inRoot("secret", nil),
		reason: "an escaping link; InRoot: re-rooted"},
	{name: "resolve-absolute", op: opResolve, open: "/../a/./b/", wantErr: confine.ErrEscape, inRoot: inRoot("a/b", nil),
		reason: "an absolute name"},
	{name: "resolve-absolute-link", op: opResolve, open: "abs", wantErr: confine.ErrEscape, inRoot: inRoot("f", nil),
		reason: "an absolute link"},
	{name: "resolve-missing", op: opResolve, open: "a/nothere", wantErr: fs.ErrNotExist, reason: "a missing component"},
	{name: "resolve-dangling", op: opResolve, open: "dang", wantErr: fs.ErrNotExist, reason: "a dangling link"},
}

// caseTree builds the world for c and returns the directory holding it and
// the root's path.
func caseTree(t testing.TB, c resolutionCase) (dir, root string) {
	t.Helper()
	dir = testfs.New(t, "secret=OUTSIDE", "outdir/x=OUTSIDE", "root/")
	root = filepath.Join(dir, "root")
	var entries []string
	for _, e := range append(append([]string{}, baseTree...), c.tree...) {
		if name, target, ok := strings.Cut(e, " => "); ok {
			e = name + " => " + strings.ReplaceAll(target, "$OUT", dir)
		}
		entries = append(entries, e)
	}
	testfs.Make(t, root, entries...)
	return dir, root
}

// treeCache shares one tree among the cases that cannot change it (each
// case still checks that it did not); cases that create get a fresh tree.
type treeCache struct {
	top   testing.TB
	trees map[string][2]string
}

func newTreeCache(top testing.TB) *treeCache {
	return &treeCache{top: top, trees: map[string][2]string{}}
}

func (tc *treeCache) get(t testing.TB, c resolutionCase) (dir, root string) {
	if c.op == opCreate || c.op == opExcl {
		return caseTree(t, c)
	}
	key := strings.Join(c.tree, "\n")
	if d, ok := tc.trees[key]; ok {
		return d[0], d[1]
	}
	dir, root = caseTree(tc.top, c)
	tc.trees[key] = [2]string{dir, root}
	return dir, root
}

// outsideSnapshot describes everything in dir but the root.
func outsideSnapshot(t testing.TB, dir string) map[string]string {
	t.Helper()
	m := testfs.Snapshot(t, dir)
	for k := range m {
		if k == "root" || strings.HasPrefix(k, "root/") {
			delete(m, k)
		}
	}
	return m
}

// devIno identifies an inode.
type devIno struct{ dev, ino uint64 }

// inodes maps every entry under root (root included, links themselves, not
// their targets) to its path relative to root: the containment invariant's
// reference set.
func inodes(t testing.TB, root string) map[devIno]string {
	t.Helper()
	m := map[devIno]string{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		var st unix.Stat_t
		if err := unix.Lstat(p, &st); err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		if _, ok := m[devIno{st.Dev, st.Ino}]; !ok {
			m[devIno{st.Dev, st.Ino}] = filepath.ToSlash(rel)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("walking %s: %v", root, err)
	}
	return m
}

func fdInode(t testing.TB, fd int) devIno {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		t.Fatalf("fstat: %v", err)
	}
	return devIno{st.Dev, st.Ino}
}

func fileInode(t testing.TB, f *os.File) devIno {
	t.Helper()
	st, err := f.Stat()
	if err != nil {
		t.Fatalf("fstat %s: %v", f.Name(), err)
	}
	s := st.Sys().(*syscall.Stat_t)
	return devIno{s.Dev, s.Ino}
}

func infoInode(fi fs.FileInfo) devIno {
	s := fi.Sys().(*syscall.Stat_t)
	return devIno{s.Dev, s.Ino}
}

// backend is one way of running the table.
type backend struct {
	name  string
	opt   confine.Option
	setup func(t *testing.T) // may install a test seam, restored by t.Cleanup
}

var backends = []backend{
	{name: "openat2", opt: confine.WithResolver(confine.ResolverOpenat2)},
	{name: "walk", opt: confine.WithResolver(confine.ResolverWalk)},
}

type mode struct {
	name   string
	inRoot bool
	opts   []confine.Option
}

var modes = []mode{
	{name: "Beneath"},
	{name: "InRoot", inRoot: true, opts: []confine.Option{confine.InRoot()}},
}

// forEachBackendMode runs f as subtests under every mode and backend.
func forEachBackendMode(t *testing.T, bs []backend, f func(t *testing.T, m mode, b backend)) {
	for _, m := range modes {
		for _, b := range bs {
			t.Run(m.name+"/"+b.name, func(t *testing.T) {
				if b.setup != nil {
					b.setup(t)
				}
				f(t, m, b)
			})
		}
	}
}

func openOpts(m mode, b backend, extra ...confine.Option) []confine.Option {
	opts := append([]confine.Option{b.opt}, m.opts...)
	return append(opts, extra...)
}

func TestResolutionTable(t *testing.T) {
	runResolutionTable(t, backends, nil)
}

// runResolutionTable runs every case under every mode and the given
// backends; check, if set, is called with each Root after it is opened.
func runResolutionTable(t *testing.T, bs []backend, check func(t *testing.T, r *confine.Root)) {
	trees := newTreeCache(t)
	forEachBackendMode(t, bs, func(t *testing.T, m mode, b backend) {
		for _, c := range resolutionCases {
			t.Run(c.name, func(t *testing.T) {
				dir, rootDir := trees.get(t, c)
				r, err := confine.OpenRoot(rootDir, openOpts(m, b, c.opts...)...)
				if err != nil {
					t.Fatalf("OpenRoot: %v", err)
				}
				defer r.Close()
				if check != nil {
					check(t, r)
				}
				runCase(t, r, dir, rootDir, c, c.expect(m.inRoot))
			})
		}
	})
}

// result is what an op produced, for comparing with an expectation or an
// oracle: the inode reached and a description of it.
type result struct {
	ino  devIno
	desc string // content, "<dir>", "file"/"dir"/"link", or a resolved path
}

// opener is what confine.Root and os.Root share for the table's ops.
type opener interface {
	Stat(string) (fs.FileInfo, error)
	Lstat(string) (fs.FileInfo, error)
	OpenFile(string, int, fs.FileMode) (*os.File, error)
}

// runOp performs c's op on r.
// An EAGAIN (a ".." refused while something on the system renamed) is
// retried, as the library documents it may be.
func runOp(t testing.TB, r *confine.Root, c resolutionCase) (res result, err error) {
	t.Helper()
	err = testfs.Retry(func() error {
		if c.op == opResolve {
			var p string
			p, err = r.Resolve(c.open)
			res = result{desc: p}
			return err
		}
		res, err = runOpOn(t, r, c)
		return err
	})
	return res, err
}

// runOpOn performs c's op (any but opResolve) on r, a confine.Root or an
// os.Root.
func runOpOn(t testing.TB, r opener, c resolutionCase) (result, error) {
	t.Helper()
	switch c.op {
	case opStat, opLstat:
		stat := r.Stat
		if c.op == opLstat {
			stat = r.Lstat
		}
		fi, err := stat(c.open)
		if err != nil {
			return result{}, err
		}
		return result{infoInode(fi), kindOf(fi.Mode())}, nil
	}
	f, err := r.OpenFile(c.open, opFlags(c.op), 0o644)
	if err != nil {
		return result{}, err
	}
	defer f.Close()
	return result{fileInode(t, f), describeFile(t, f)}, nil
}

func opFlags(op string) int {
	switch op {
	case opNoFollow:
		return os.O_RDONLY | syscall.O_NOFOLLOW
	case opCreate:
		return os.O_RDWR | os.O_CREATE
	case opExcl:
		return os.O_RDWR | os.O_CREATE | os.O_EXCL
	}
	return os.O_RDONLY
}

func kindOf(m fs.FileMode) string {
	switch {
	case m&fs.ModeSymlink != 0:
		return "link"
	case m.IsDir():
		return "dir"
	}
	return "file"
}

func describeFile(t testing.TB, f *os.File) string {
	t.Helper()
	fi, err := f.Stat()
	if err != nil {
		t.Fatalf("fstat %s: %v", f.Name(), err)
	}
	if fi.IsDir() {
		return "<dir>"
	}
	b, err := io.ReadAll(f)
	if err != nil && !errors.Is(err, syscall.EBADF) {
		t.Fatalf("reading %s: %v", f.Name(), err)
	}
	return string(b)
}

func runCase(t *testing.T, r *confine.Root, dir, rootDir string, c resolutionCase, w outcome) {
	outBefore := outsideSnapshot(t, dir)
	rootBefore := testfs.Snapshot(t, rootDir)
	inside := inodes(t, rootDir)

	got, err := runOp(t, r, c)

	if w.wantErr != nil {
		if !errors.Is(err, w.wantErr) {
			t.Fatalf("%s(%q) = %q, %v, want %v (%s)", c.op, c.open, got.desc, err, w.wantErr, c.reason)
		}
		var pe *fs.PathError
		if !errors.As(err, &pe) || pe.Path != c.open {
			t.Errorf("%s(%q) error %#v is not a *fs.PathError carrying the caller's name", c.op, c.open, err)
		}
		if after := testfs.Snapshot(t, rootDir); !equalMaps(rootBefore, after) {
			t.Errorf("%s(%q) failed but changed the root: %v -> %v", c.op, c.open, rootBefore, after)
		}
	} else {
		if err != nil {
			t.Fatalf("%s(%q) = %v, want %q (%s)", c.op, c.open, err, w.want, c.reason)
		}
		switch c.op {
		case opCreate, opExcl:
			// The file created (or opened) must be the one at want.
			inside = inodes(t, rootDir)
			if p, ok := inside[got.ino]; !ok || p != w.want {
				t.Fatalf("%s(%q) reached %q, want %q (%s)", c.op, c.open, p, w.want, c.reason)
			}
		case opResolve:
			if got.desc != w.want {
				t.Fatalf("Resolve(%q) = %q, want %q (%s)", c.open, got.desc, w.want, c.reason)
			}
		default:
			if got.desc != w.want {
				t.Fatalf("%s(%q) = %q, want %q (%s)", c.op, c.open, got.desc, w.want, c.reason)
			}
		}
		// The containment invariant: whatever was reached lies under the
		// root.
		if c.op != opResolve {
			if _, ok := inside[got.ino]; !ok {
				t.Fatalf("%s(%q) reached inode %v, which is not under the root", c.op, c.open, got.ino)
			}
		}
	}
	if after := outsideSnapshot(t, dir); !equalMaps(outBefore, after) {
		t.Fatalf("%s(%q) changed the outside: %v -> %v", c.op, c.open, outBefore, after)
	}
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// errClass names the class of an error for comparing with an oracle that
// has its own error values.
func errClass(err error) string {
	switch {
	case err == nil:
		return "ok"
	case errors.Is(err, resolve.ErrInvalid):
		return "invalid"
	case errors.Is(err, confine.ErrSymlink):
		return syscall.ELOOP.Error()
	case errors.Is(err, confine.ErrEscape), errors.Is(err, syscall.EXDEV):
		return "escape"
	}
	for _, e := range []syscall.Errno{syscall.ENOENT, syscall.EEXIST, syscall.ENOTDIR, syscall.ELOOP, syscall.EISDIR, syscall.EINVAL, syscall.ENAMETOOLONG} {
		if errors.Is(err, e) {
			return e.Error()
		}
	}
	return "other: " + err.Error()
}

// reached maps an op's result to a path under its root, "" if it reached
// nothing there, so that results on two copies of a tree can be compared.
func reached(t testing.TB, rootDir string, r result, op string) string {
	t.Helper()
	if op == opResolve {
		return r.desc
	}
	p, ok := inodes(t, rootDir)[r.ino]
	if !ok {
		return "<outside the root>"
	}
	return p
}

// osRootDifferences are the cases where os.Root deliberately answers
// otherwise (DESIGN.md), with the reason.
var osRootDifferences = map[string]string{
	"hops-40":               "os.Root follows at most 8 links per name",
	"nofollow-link":         "os.Root ignores O_NOFOLLOW and follows a final link",
	"create-slash":          `os.Root says ENOENT for O_CREATE of "new/", the kernel and DESIGN.md say EISDIR`,
	"create-dangling-slash": `os.Root says ENOENT for O_CREATE through a link to "new/", the kernel says EISDIR`,
}

// TestBeneathMatchesOSRoot compares every Beneath case with os.Root (Go's
// os.OpenRoot) on a copy of the same tree: the same error class, or the
// same entry reached.
func TestBeneathMatchesOSRoot(t *testing.T) {
	trees := newTreeCache(t)
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			for _, c := range resolutionCases {
				if c.op == opResolve || len(c.opts) > 0 {
					continue // os.Root has no Resolve, NoSymlinks or NoXDev
				}
				t.Run(c.name, func(t *testing.T) {
					if why, ok := osRootDifferences[c.name]; ok {
						t.Skip("expected difference: " + why)
					}
					if errors.Is(c.wantErr, resolve.ErrInvalid) {
						t.Skip("expected difference: bad input is ErrInvalid here, whatever the kernel says there")
					}
					_, rootA := trees.get(t, c)
					r, err := confine.OpenRoot(rootA, b.opt)
					if err != nil {
						t.Fatal(err)
					}
					defer r.Close()
					got, err := runOp(t, r, c)
					gotClass, gotPath := errClass(err), ""
					if err == nil {
						gotPath = reached(t, rootA, got, c.op)
					}

					_, rootB := trees.get(t, c)
					if c.op != opCreate && c.op != opExcl {
						rootB = rootA
					}
					osr, err := os.OpenRoot(rootB)
					if err != nil {
						t.Fatal(err)
					}
					defer osr.Close()
					want, err := runOpOn(t, osr, c)
					wantClass, wantPath := errClass(err), ""
					if err == nil {
						wantPath = reached(t, rootB, want, c.op)
					}
					if strings.HasPrefix(wantClass, "other") && gotClass == "escape" {
						wantClass = "escape" // os.Root's escape error is unexported
					}
					if gotClass != wantClass || gotPath != wantPath {
						t.Errorf("%s(%q) = %s %q, os.Root says %s %q (%s)", c.op, c.open, gotClass, gotPath, wantClass, wantPath, c.reason)
					}
				})
			}
		})
	}
}

// TestInRootMatchesKernel compares every InRoot case with the kernel's own
// openat2(RESOLVE_IN_ROOT|RESOLVE_NO_MAGICLINKS) on the Root's own fd (on
// a fresh copy of the tree for the cases that create): the same error
// class, or the same entry reached.
func TestInRootMatchesKernel(t *testing.T) {
	trees := newTreeCache(t)
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			for _, c := range resolutionCases {
				t.Run(c.name, func(t *testing.T) {
					if errors.Is(c.wantErr, resolve.ErrInvalid) {
						t.Skip("expected difference: bad input is ErrInvalid here, ENOENT or ENAMETOOLONG in the kernel")
					}
					opts := append([]confine.Option{b.opt, confine.InRoot()}, c.opts...)
					_, rootA := trees.get(t, c)
					r, err := confine.OpenRoot(rootA, opts...)
					if err != nil {
						t.Fatal(err)
					}
					defer r.Close()
					got, err := runOp(t, r, c)
					gotClass, gotPath := errClass(err), ""
					if err == nil {
						gotPath = reached(t, rootA, got, c.op)
					}

					rootB, kr := rootA, r
					if c.op == opCreate || c.op == opExcl {
						_, rootB = trees.get(t, c)
						kr, err = confine.OpenRoot(rootB, opts...)
						if err != nil {
							t.Fatal(err)
						}
						defer kr.Close()
					}
					how := unix.OpenHow{Flags: uint64(kernelFlags(c.op)) | unix.O_CLOEXEC, Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS}
					if how.Flags&unix.O_CREAT != 0 {
						how.Mode = 0o644
					}
					if len(c.opts) > 0 { // the only option in the table is NoSymlinks
						how.Resolve |= unix.RESOLVE_NO_SYMLINKS
					}
					var fd int
					err = testfs.Retry(func() (err error) {
						fd, err = unix.Openat2(confine.RootFD(kr), c.open, &how)
						return err
					})
					wantClass, wantPath := errClass(err), ""
					if err == nil {
						ino := fdInode(t, fd)
						unix.Close(fd)
						if p, ok := inodes(t, rootB)[ino]; ok {
							wantPath = p
						} else {
							wantPath = "<outside the root>"
						}
					}
					if gotClass != wantClass || gotPath != wantPath {
						t.Errorf("%s(%q) = %s %q, openat2 RESOLVE_IN_ROOT says %s %q (%s)", c.op, c.open, gotClass, gotPath, wantClass, wantPath, c.reason)
					}
				})
			}
		})
	}
}

func kernelFlags(op string) int {
	switch op {
	case opStat, opResolve:
		return unix.O_PATH
	case opLstat:
		return unix.O_PATH | unix.O_NOFOLLOW
	}
	return opFlags(op)
}

// refuseOpenat2 makes every openat2 fail with errno for the rest of t.
func refuseOpenat2(errno syscall.Errno) func(t *testing.T) {
	return func(t *testing.T) {
		t.Cleanup(resolve.SetOpenat2ForTest(func(int, string, *unix.OpenHow) (int, error) {
			return -1, errno
		}))
	}
}

// TestAutoFallback: where openat2 is missing (ENOSYS) or refused by
// seccomp (EPERM), ResolverAuto picks the walk and the whole table still
// passes.
func TestAutoFallback(t *testing.T) {
	for _, errno := range []syscall.Errno{syscall.ENOSYS, syscall.EPERM} {
		t.Run(errno.Error(), func(t *testing.T) {
			b := backend{name: "auto", opt: confine.WithResolver(confine.ResolverAuto), setup: refuseOpenat2(errno)}
			runResolutionTable(t, []backend{b}, func(t *testing.T, r *confine.Root) {
				if got := r.Resolver(); got != confine.ResolverWalk {
					t.Fatalf("Resolver() = %v with openat2 refused (%v), want %v", got, errno, confine.ResolverWalk)
				}
			})
		})
	}
	t.Run("forced openat2", func(t *testing.T) {
		refuseOpenat2(syscall.ENOSYS)(t)
		dir := testfs.New(t, "f=F")
		if r, err := confine.OpenRoot(dir, confine.WithResolver(confine.ResolverOpenat2)); !errors.Is(err, syscall.ENOSYS) {
			if r != nil {
				r.Close()
			}
			t.Fatalf("OpenRoot(WithResolver(ResolverOpenat2)) = %v without openat2, want ENOSYS", err)
		}
	})
}

// TestNoDowngrade: a lookup that fails with EPERM or ENOSYS while the probe
// ("." with the Root's flags) still works must not switch the backend,
// and neither must EINVAL, E2BIG, EAGAIN or EXDEV; only a probe that fails
// too (openat2 gone after OpenRoot) does.
func TestNoDowngrade(t *testing.T) {
	dir := testfs.New(t, "f=F", "g=G")
	for _, errno := range []syscall.Errno{syscall.EPERM, syscall.ENOSYS, syscall.EINVAL, syscall.E2BIG, syscall.EAGAIN, syscall.EXDEV} {
		for _, m := range modes {
			t.Run(m.name+"/"+errno.Error(), func(t *testing.T) {
				r, err := confine.OpenRoot(dir, m.opts...)
				if err != nil {
					t.Fatal(err)
				}
				defer r.Close()
				if got := r.Resolver(); got != confine.ResolverOpenat2 {
					t.Fatalf("Resolver() = %v, want %v", got, confine.ResolverOpenat2)
				}
				real := unix.Openat2
				t.Cleanup(resolve.SetOpenat2ForTest(func(dirfd int, path string, how *unix.OpenHow) (int, error) {
					if path == "f" {
						return -1, errno // the attacker's chosen lookup
					}
					return real(dirfd, path, how)
				}))
				f, err := r.Open("f")
				if err == nil {
					f.Close()
					t.Fatalf("Open(%q) = nil error, want the lookup's own failure (%v)", "f", errno)
				}
				if got := r.Resolver(); got != confine.ResolverOpenat2 {
					t.Fatalf("Resolver() = %v after one lookup failed with %v, want %v (no downgrade)", got, errno, confine.ResolverOpenat2)
				}
				if errno == syscall.EPERM || errno == syscall.ENOSYS || errno == syscall.E2BIG {
					if !errors.Is(err, errno) {
						t.Fatalf("Open(%q) = %v, want %v", "f", err, errno)
					}
				}
				// Other lookups still go through openat2.
				g, err := r.Open("g")
				if err != nil {
					t.Fatalf("Open(%q) = %v, want success", "g", err)
				}
				g.Close()
			})
		}
	}
	t.Run("gone after OpenRoot", func(t *testing.T) {
		r, err := confine.OpenRoot(dir)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		refuseOpenat2(syscall.EPERM)(t) // a seccomp filter installed later
		f, err := r.Open("f")
		if err != nil {
			t.Fatalf("Open(%q) = %v with openat2 gone, want the walk to answer", "f", err)
		}
		f.Close()
		if got := r.Resolver(); got != confine.ResolverWalk {
			t.Fatalf("Resolver() = %v once the probe fails too, want %v", got, confine.ResolverWalk)
		}
	})
}

// TestRootSurvivesRename: a Root keeps working on the very directory it
// opened after that directory is renamed, and an impostor put at the old
// name is never seen.
func TestRootSurvivesRename(t *testing.T) {
	forEachBackendMode(t, backends, func(t *testing.T, m mode, b backend) {
		dir := testfs.New(t, "root/f=ORIGINAL", "root/a/g=G", "root/l => a/g")
		r, err := confine.OpenRoot(filepath.Join(dir, "root"), openOpts(m, b)...)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		if err := os.Rename(filepath.Join(dir, "root"), filepath.Join(dir, "moved")); err != nil {
			t.Fatal(err)
		}
		testfs.Make(t, dir, "root/f=IMPOSTOR", "root/a/g=IMPOSTOR")
		for name, want := range map[string]string{"f": "ORIGINAL", "l": "G", "a/../f": "ORIGINAL", "./a/g": "G"} {
			f, err := r.Open(name)
			if err != nil {
				t.Fatalf("Open(%q) = %v after the rename, want %q", name, err, want)
			}
			got := describeFile(t, f)
			f.Close()
			if got != want {
				t.Fatalf("Open(%q) = %q after the rename, want %q", name, got, want)
			}
		}
		f, err := r.Create("new")
		if err != nil {
			t.Fatalf("Create(%q) = %v after the rename", "new", err)
		}
		f.Close()
		if _, err := os.Stat(filepath.Join(dir, "moved", "new")); err != nil {
			t.Fatalf("Create(%q) did not create in the renamed directory: %v", "new", err)
		}
		if p, err := r.Resolve("l"); err != nil || p != "a/g" {
			t.Fatalf("Resolve(%q) = %q, %v after the rename, want %q", "l", p, err, "a/g")
		}
		sub, err := r.OpenRoot("a")
		if err != nil {
			t.Fatalf("OpenRoot(%q) = %v after the rename", "a", err)
		}
		defer sub.Close()
		if fi, err := sub.Stat("g"); err != nil || fi.Size() != 1 {
			t.Fatalf("sub-root Stat(%q) = %v, %v, want the original g", "g", fi, err)
		}
	})
}

// TestBadInput: every core method refuses bad names with a typed error
// (*fs.PathError carrying the name) and never panics; OpenRoot refuses a
// file, a missing directory and bad names; a closed Root refuses
// everything with fs.ErrClosed.
func TestBadInput(t *testing.T) {
	dir := testfs.New(t, "f=F", "d/")
	bad := []string{"", "a\x00b", "\x00", strings.Repeat("a", 4096), strings.Repeat("a/", 2048), "d/" + strings.Repeat("x", 256)}
	type method struct {
		name string
		call func(r *confine.Root, name string) error
	}
	methods := []method{
		{"Open", func(r *confine.Root, n string) error { f, err := r.Open(n); closeIf(f); return err }},
		{"Create", func(r *confine.Root, n string) error { f, err := r.Create(n); closeIf(f); return err }},
		{"OpenFile", func(r *confine.Root, n string) error {
			f, err := r.OpenFile(n, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
			closeIf(f)
			return err
		}},
		{"OpenRoot", func(r *confine.Root, n string) error {
			c, err := r.OpenRoot(n)
			if c != nil {
				c.Close()
			}
			return err
		}},
		{"Stat", func(r *confine.Root, n string) error { _, err := r.Stat(n); return err }},
		{"Lstat", func(r *confine.Root, n string) error { _, err := r.Lstat(n); return err }},
		{"ReadDir", func(r *confine.Root, n string) error { _, err := r.ReadDir(n); return err }},
		{"Resolve", func(r *confine.Root, n string) error { _, err := r.Resolve(n); return err }},
	}
	forEachBackendMode(t, backends, func(t *testing.T, m mode, b backend) {
		before := testfs.Snapshot(t, dir)
		r, err := confine.OpenRoot(dir, openOpts(m, b)...)
		if err != nil {
			t.Fatal(err)
		}
		for _, me := range methods {
			for _, name := range bad {
				err := me.call(r, name)
				if !errors.Is(err, resolve.ErrInvalid) {
					t.Errorf("%s(%.20q) = %v, want %v", me.name, name, err, resolve.ErrInvalid)
				}
				var pe *fs.PathError
				if !errors.As(err, &pe) || pe.Path != name {
					t.Errorf("%s(%.20q) = %#v, want a *fs.PathError carrying the name", me.name, name, err)
				}
			}
		}
		for _, perm := range []fs.FileMode{0o4755, 0o2755, 0o1777, fs.ModeDir | 0o755} {
			f, err := r.OpenFile("new", os.O_RDWR|os.O_CREATE, perm)
			closeIf(f)
			if !errors.Is(err, resolve.ErrInvalid) {
				t.Errorf("OpenFile(%q, perm %v) = %v, want %v", "new", perm, err, resolve.ErrInvalid)
			}
		}
		if after := testfs.Snapshot(t, dir); !equalMaps(before, after) {
			t.Errorf("bad input changed the tree: %v -> %v", before, after)
		}

		// A closed Root.
		if err := r.Close(); err != nil {
			t.Fatalf("Close() = %v", err)
		}
		if err := r.Close(); err != nil {
			t.Fatalf("second Close() = %v, want nil", err)
		}
		for _, me := range methods {
			if err := me.call(r, "f"); !errors.Is(err, fs.ErrClosed) {
				t.Errorf("%s(%q) on a closed Root = %v, want %v", me.name, "f", err, fs.ErrClosed)
			}
		}

		// OpenRoot itself.
		for _, c := range []struct {
			dir  string
			want error
		}{
			{filepath.Join(dir, "f"), syscall.ENOTDIR},
			{filepath.Join(dir, "nothere"), fs.ErrNotExist},
			{"", resolve.ErrInvalid},
			{dir + "\x00", resolve.ErrInvalid},
			{strings.Repeat("/a", 2048), resolve.ErrInvalid},
		} {
			r, err := confine.OpenRoot(c.dir, openOpts(m, b)...)
			if r != nil {
				r.Close()
			}
			var pe *fs.PathError
			if !errors.Is(err, c.want) || !errors.As(err, &pe) {
				t.Errorf("OpenRoot(%.40q) = %v, want a *fs.PathError matching %v", c.dir, err, c.want)
			}
		}
	})
	if _, err := confine.NewRoot(nil); !errors.Is(err, fs.ErrInvalid) {
		t.Errorf("NewRoot(nil) = %v, want %v", err, fs.ErrInvalid)
	}
}

func closeIf(f *os.File) {
	if f != nil {
		f.Close()
	}
}
