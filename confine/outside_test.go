//go:build linux && !pathguard_osroot

package confine_test

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/pathguard/pathguard/confine"
	"github.com/pathguard/pathguard/internal/resolve"
	"github.com/pathguard/pathguard/internal/testfs"
)

// The outside suite: every operation of a Root, in both modes and under
// both backends, given names that try to leave the root through "..",
// absolute names, and escaping or dangling links, with or without a
// trailing slash. Whatever each call returns, the sibling directory
// "outside" must be unchanged afterwards, byte for byte, mode for mode,
// owner for owner, mtime for mtime; in Beneath mode the escapes must be
// ErrEscape, in InRoot mode ErrEscape must never come.

// opsConfig is one mode x backend combination.
type opsConfig struct {
	name   string
	inRoot bool
	res    confine.Resolver
}

func (c opsConfig) opts() []confine.Option {
	o := []confine.Option{confine.WithResolver(c.res)}
	if c.inRoot {
		o = append(o, confine.InRoot())
	}
	return o
}

var opsConfigs = []opsConfig{
	{"Beneath/openat2", false, confine.ResolverOpenat2},
	{"Beneath/walk", false, confine.ResolverWalk},
	{"InRoot/openat2", true, confine.ResolverOpenat2},
	{"InRoot/walk", true, confine.ResolverWalk},
}

// opsEach runs f as a subtest for every mode and backend.
func opsEach(t *testing.T, f func(t *testing.T, c opsConfig)) {
	t.Helper()
	for _, c := range opsConfigs {
		t.Run(c.name, func(t *testing.T) { f(t, c) })
	}
}

// opsOpen opens dir as a Root under c, closed at the end of the test.
func opsOpen(t testing.TB, dir string, c opsConfig) *confine.Root {
	t.Helper()
	r, err := confine.OpenRoot(dir, c.opts()...)
	if err != nil {
		t.Fatalf("OpenRoot(%q, %s) = %v", dir, c.name, err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// opsWorld is testfs.Snapshot plus what it leaves out: owner, group and
// modification time of every entry (the access time moves when the
// snapshot itself reads a file).
func opsWorld(t testing.TB, dir string) map[string]string {
	t.Helper()
	m := testfs.Snapshot(t, dir)
	for rel, desc := range m {
		fi, err := os.Lstat(filepath.Join(dir, rel))
		if err != nil {
			t.Fatal(err)
		}
		st := fi.Sys().(*syscall.Stat_t)
		m[rel] = fmt.Sprintf("%s uid=%d gid=%d mtime=%d.%09d", desc, st.Uid, st.Gid, st.Mtim.Sec, st.Mtim.Nsec)
	}
	return m
}

// opsUnchanged fails the test if dir differs from before.
func opsUnchanged(t testing.TB, dir string, before map[string]string) {
	t.Helper()
	if diff := cmp.Diff(before, opsWorld(t, dir)); diff != "" {
		t.Errorf("the world outside the root changed (-before +after):\n%s", diff)
	}
}

// opsPathError checks that err is the error type os.Root returns (a
// *os.LinkError from Rename, Link and Symlink, else a *fs.PathError) and
// names one of names.
func opsPathError(t testing.TB, what string, err error, names ...string) {
	t.Helper()
	if err == nil {
		return
	}
	_, got, ok := errShape(err)
	if !ok {
		t.Errorf("%s = %v (%T), want a *fs.PathError or *os.LinkError", what, err, err)
		return
	}
	for _, n := range names {
		for _, g := range got {
			if g == n {
				return
			}
		}
	}
	t.Errorf("%s: error names %q, want one of %q", what, got, names)
}

// An attacked operation: do acts on name (in either position of a
// two-name operation). follows says whether it acts on what a final link
// leads to (so an escaping final link is ErrEscape in Beneath mode);
// slash is what it must return for "link/" on a link leading outside.
type opsOp struct {
	name    string
	do      func(r *confine.Root, name string) error
	follows bool
	slash   error // errSkip: not checked
}

var errSkip = errors.New("not checked")

var opsAttackedOps = []opsOp{
	{"Open", func(r *confine.Root, n string) error { return opsClose(r.Open(n)) }, true, confine.ErrEscape},
	{"Create", func(r *confine.Root, n string) error { return opsClose(r.Create(n)) }, true, syscall.EISDIR},
	{"OpenFile/RDWR|CREATE|TRUNC", func(r *confine.Root, n string) error {
		return opsClose(r.OpenFile(n, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o666))
	}, true, syscall.EISDIR},
	{"OpenFile/WRONLY|APPEND", func(r *confine.Root, n string) error {
		f, err := r.OpenFile(n, os.O_WRONLY|os.O_APPEND, 0)
		if err == nil {
			f.Write([]byte("appended"))
		}
		return opsClose(f, err)
	}, true, confine.ErrEscape},
	{"OpenFile/CREATE|EXCL", func(r *confine.Root, n string) error {
		return opsClose(r.OpenFile(n, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600))
	}, false, syscall.EISDIR},
	{"OpenRoot", func(r *confine.Root, n string) error {
		c, err := r.OpenRoot(n)
		if err == nil {
			c.Close()
		}
		return err
	}, true, confine.ErrEscape},
	{"Stat", func(r *confine.Root, n string) error { _, err := r.Stat(n); return err }, true, confine.ErrEscape},
	{"Lstat", func(r *confine.Root, n string) error { _, err := r.Lstat(n); return err }, false, confine.ErrEscape},
	{"ReadDir", func(r *confine.Root, n string) error { _, err := r.ReadDir(n); return err }, true, confine.ErrEscape},
	{"Mkdir", func(r *confine.Root, n string) error { return r.Mkdir(n, 0o700) }, false, fs.ErrExist},
	{"MkdirAll", func(r *confine.Root, n string) error { return r.MkdirAll(n+"/sub", 0o700) }, true, confine.ErrEscape},
	{"Remove", func(r *confine.Root, n string) error { return r.Remove(n) }, false, syscall.ENOTDIR},
	{"RemoveAll", func(r *confine.Root, n string) error { return r.RemoveAll(n) }, false, nil},
	{"Rename/from", func(r *confine.Root, n string) error { return r.Rename(n, "a/moved") }, false, syscall.ENOTDIR},
	{"Rename/to", func(r *confine.Root, n string) error { return r.Rename("a/f", n) }, false, errSkip},
	{"Link/from", func(r *confine.Root, n string) error { return r.Link(n, "a/hard") }, false, confine.ErrEscape},
	{"Link/to", func(r *confine.Root, n string) error { return r.Link("a/f", n) }, false, confine.ErrEscape},
	{"Symlink", func(r *confine.Root, n string) error { return r.Symlink("f", n) }, false, confine.ErrEscape},
	{"Readlink", func(r *confine.Root, n string) error { _, err := r.Readlink(n); return err }, false, confine.ErrEscape},
	{"Chmod", func(r *confine.Root, n string) error { return r.Chmod(n, 0o700) }, true, confine.ErrEscape},
	{"Chown", func(r *confine.Root, n string) error { return r.Chown(n, 65534, 65534) }, true, confine.ErrEscape},
	{"Lchown", func(r *confine.Root, n string) error { return r.Lchown(n, 65534, 65534) }, false, confine.ErrEscape},
	{"Chtimes", func(r *confine.Root, n string) error { return r.Chtimes(n, opsTime, opsTime) }, true, confine.ErrEscape},
	{"ReadFile", func(r *confine.Root, n string) error { _, err := r.ReadFile(n); return err }, true, confine.ErrEscape},
	{"WriteFile", func(r *confine.Root, n string) error { return r.WriteFile(n, []byte("pwned"), 0o666) }, true, syscall.EISDIR},
	{"Resolve", func(r *confine.Root, n string) error { _, err := r.Resolve(n); return err }, true, confine.ErrEscape},
}

// opsOutsideTree is base/root (the Root) next to base/outside (the
// world). root/outside is a decoy: in InRoot mode "../outside" from the
// root is re-rooted onto it.
func opsOutsideTree(t testing.TB) (base string) {
	base = t.TempDir()
	testfs.Make(t, base, "outside/secret=TOPSECRET", "outside/dir/f=outside file", "outside/empty/")
	testfs.Make(t, base, opsRootEntries(filepath.Join(base, "outside"))...)
	return base
}

func opsRootEntries(out string) []string {
	return []string{
		"root/a/f=data",
		"root/outside/secret=DECOY",
		"root/esc => ../outside",
		"root/escf => ../outside/secret",
		"root/dang => ../outside/new",
		"root/abs => " + out,
		"root/absf => " + out + "/secret",
		"root/a/up => ../../outside",
		"root/a/upf => ../../outside/secret",
	}
}

// Names whose parent lies outside: every operation is ErrEscape in
// Beneath mode. "{out}" is replaced by the absolute path of outside.
var opsParentEscapes = []string{
	"../outside/secret",
	"../outside/new",
	"../outside/dir/",
	"../outside/empty",
	"a/../../outside/secret",
	"esc/secret",
	"esc/dir/f",
	"esc/dir/",
	"esc/new",
	"abs/secret",
	"a/up/secret",
	"a/up/empty",
	"{out}/secret",
	"{out}/new",
	"..",
	"../",
	"a/../..",
	"esc/.",
}

// Names whose final component is a link leading outside (or dangling
// outside): operations that follow it are ErrEscape in Beneath mode;
// the others act on the link itself, inside the root.
var opsFinalEscapes = []string{"escf", "dang", "esc", "absf", "abs", "a/upf", "a/up"}

// The same links with a trailing slash, which must resolve the link and
// stay inside (CVE-2026-39822).
var opsSlashEscapes = []string{"esc/", "abs/", "a/up/", "esc//"}

func TestOutsideUnchanged(t *testing.T) {
	kinds := []struct {
		kind  string
		names []string
	}{{"parent", opsParentEscapes}, {"final", opsFinalEscapes}, {"slash", opsSlashEscapes}}
	opsEach(t, func(t *testing.T, c opsConfig) {
		for _, op := range opsAttackedOps {
			t.Run(op.name, func(t *testing.T) {
				// One tree per operation; the root is rebuilt only after a
				// call that changed it, so each name meets the same tree.
				base := opsOutsideTree(t)
				out, rootDir := filepath.Join(base, "outside"), filepath.Join(base, "root")
				before, rootBefore := opsWorld(t, out), opsWorld(t, rootDir)
				r := opsOpen(t, rootDir, c)
				for _, k := range kinds {
					for _, name := range k.names {
						name = strings.ReplaceAll(name, "{out}", out)
						err := op.do(r, name)
						what := fmt.Sprintf("%s(%q)", op.name, name)
						opsPathError(t, what, err, name, name+"/sub", "a/f", "a/moved", "a/hard", "f")
						opsUnchanged(t, out, before)
						if !cmp.Equal(rootBefore, opsWorld(t, rootDir)) {
							r.Close()
							if err := os.RemoveAll(rootDir); err != nil {
								t.Fatal(err)
							}
							testfs.Make(t, base, opsRootEntries(out)...)
							rootBefore = opsWorld(t, rootDir)
							r = opsOpen(t, rootDir, c)
						}
						if c.inRoot {
							if errors.Is(err, confine.ErrEscape) {
								t.Errorf("%s = %v: ErrEscape in InRoot mode", what, err)
							}
							continue
						}
						want := errSkip
						switch {
						case k.kind == "parent", k.kind == "final" && op.follows:
							want = confine.ErrEscape
						case k.kind == "slash" && op.slash == syscall.EISDIR:
							// Creating "x/" is EISDIR, but an x that leads
							// out is reported as the escape it is first.
							want = confine.ErrEscape
						case k.kind == "slash":
							want = op.slash
						}
						switch {
						case want == errSkip:
						case want == nil && err != nil:
							t.Errorf("%s = %v, want success", what, err)
						case want != nil && !errors.Is(err, want):
							t.Errorf("%s = %v, want %v", what, err, want)
						}
					}
				}
			})
		}
	})
}

// The InRoot half has a stronger form: an escaping name is re-rooted, so
// an operation on "esc/secret" acts on the decoy root/outside/secret.
func TestOutsideInRootReroots(t *testing.T) {
	for _, c := range opsConfigs[2:] {
		t.Run(c.name, func(t *testing.T) {
			base := opsOutsideTree(t)
			out := filepath.Join(base, "outside")
			before := opsWorld(t, out)
			r := opsOpen(t, filepath.Join(base, "root"), c)
			for _, name := range []string{"esc/secret", "../outside/secret", "a/up/secret", "escf", "a/upf", "/outside/secret"} {
				got, err := r.ReadFile(name)
				if err != nil || string(got) != "DECOY" {
					t.Errorf("ReadFile(%q) = %q, %v, want the decoy", name, got, err)
				}
			}
			if err := r.WriteFile("dang", []byte("made inside"), 0o600); err != nil {
				t.Fatalf("WriteFile(dang) = %v", err)
			}
			if got, err := os.ReadFile(filepath.Join(base, "root/outside/new")); err != nil || string(got) != "made inside" {
				t.Errorf("root/outside/new = %q, %v, want the file made through dang", got, err)
			}
			if err := r.Chmod("escf", 0o600); err != nil {
				t.Errorf("Chmod(escf) = %v", err)
			}
			if fi, err := os.Stat(filepath.Join(base, "root/outside/secret")); err != nil || fi.Mode().Perm() != 0o600 {
				t.Errorf("decoy mode = %v, %v, want 0600", fi.Mode(), err)
			}
			opsUnchanged(t, out, before)
		})
	}
}

// opsCall is one method called with a given name, for the bad-input
// table: every exported method of Root that takes a name.
type opsCall struct {
	method string
	do     func(r *confine.Root, name string) error
}

var opsAllMethods = []opsCall{
	{"Open", func(r *confine.Root, n string) error { return opsClose(r.Open(n)) }},
	{"Create", func(r *confine.Root, n string) error { return opsClose(r.Create(n)) }},
	{"OpenFile", func(r *confine.Root, n string) error { return opsClose(r.OpenFile(n, os.O_RDWR|os.O_APPEND, 0)) }},
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
	{"Mkdir", func(r *confine.Root, n string) error { return r.Mkdir(n, 0o755) }},
	{"MkdirAll", func(r *confine.Root, n string) error { return r.MkdirAll(n, 0o755) }},
	{"Remove", func(r *confine.Root, n string) error { return r.Remove(n) }},
	{"RemoveAll", func(r *confine.Root, n string) error { return r.RemoveAll(n) }},
	{"Rename/old", func(r *confine.Root, n string) error { return r.Rename(n, "x") }},
	{"Rename/new", func(r *confine.Root, n string) error { return r.Rename("a/f", n) }},
	{"Link/old", func(r *confine.Root, n string) error { return r.Link(n, "x") }},
	{"Link/new", func(r *confine.Root, n string) error { return r.Link("a/f", n) }},
	{"Symlink/target", func(r *confine.Root, n string) error { return r.Symlink(n, "x") }},
	{"Symlink/name", func(r *confine.Root, n string) error { return r.Symlink("a/f", n) }},
	{"Readlink", func(r *confine.Root, n string) error { _, err := r.Readlink(n); return err }},
	{"Chmod", func(r *confine.Root, n string) error { return r.Chmod(n, 0o600) }},
	{"Chown", func(r *confine.Root, n string) error { return r.Chown(n, -1, -1) }},
	{"Lchown", func(r *confine.Root, n string) error { return r.Lchown(n, -1, -1) }},
	{"Chtimes", func(r *confine.Root, n string) error { return r.Chtimes(n, opsTime, opsTime) }},
	{"ReadFile", func(r *confine.Root, n string) error { _, err := r.ReadFile(n); return err }},
	{"WriteFile", func(r *confine.Root, n string) error { return r.WriteFile(n, nil, 0o644) }},
}

func TestOpsBadInput(t *testing.T) {
	bad := []struct {
		name string
		in   string
	}{
		{"empty", ""},
		{"NUL", "a/f\x00"},
		{"PATH_MAX", strings.Repeat("a/", 2048)},
		{"NAME_MAX", strings.Repeat("n", 256)},
		{"NAME_MAX/deep", "a/" + strings.Repeat("n", 256) + "/f"},
	}
	opsEach(t, func(t *testing.T, c opsConfig) {
		base := opsOutsideTree(t)
		out := filepath.Join(base, "outside")
		rootDir := filepath.Join(base, "root")
		before, beforeRoot := opsWorld(t, out), opsWorld(t, rootDir)
		r := opsOpen(t, rootDir, c)
		for _, m := range opsAllMethods {
			for _, b := range bad {
				err := m.do(r, b.in)
				what := fmt.Sprintf("%s(%s)", m.method, b.name)
				if !errors.Is(err, resolve.ErrInvalid) {
					t.Errorf("%s = %v, want ErrInvalid", what, err)
				}
				opsPathError(t, what, err, b.in, "x", "a/f")
			}
		}
		// Bad mode bits: nothing is created or changed.
		for _, perm := range []fs.FileMode{0o1777, 0o4755, 0o2755, fs.ModeDir | 0o755, 0o10000} {
			errs := map[string]error{
				"Mkdir":     r.Mkdir("newdir", perm),
				"MkdirAll":  r.MkdirAll("newdir/sub", perm),
				"OpenFile":  opsClose(r.OpenFile("newfile", os.O_CREATE|os.O_WRONLY, perm)),
				"WriteFile": r.WriteFile("newfile", []byte("x"), perm),
			}
			for method, err := range errs {
				if !errors.Is(err, resolve.ErrInvalid) {
					t.Errorf("%s(perm %v) = %v, want ErrInvalid", method, perm, err)
				}
			}
		}
		opsUnchanged(t, out, before)
		opsUnchanged(t, rootDir, beforeRoot)

		// Missing names and existing ones.
		for _, m := range opsAllMethods {
			switch m.method {
			case "MkdirAll", "RemoveAll", "Create", "WriteFile", "Rename/new", "Link/new", "Symlink/name", "Symlink/target":
				// These make or tolerate a missing name.
			default:
				if err := m.do(r, "missing/x"); !errors.Is(err, fs.ErrNotExist) {
					t.Errorf("%s(missing/x) = %v, want fs.ErrNotExist", m.method, err)
				}
			}
		}
		exists := map[string]error{
			"Mkdir":                   r.Mkdir("a", 0o755),
			"OpenFile":                opsClose(r.OpenFile("a/f", os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)),
			"Symlink":                 r.Symlink("x", "a/f"),
			"Link":                    r.Link("a/f", "a"),
			"Rename onto a directory": r.Rename("a/f", "outside"),
		}
		for method, err := range exists {
			if !errors.Is(err, fs.ErrExist) {
				t.Errorf("%s = %v, want fs.ErrExist", method, err)
			}
		}
		opsUnchanged(t, out, before)

		// A closed Root: every method is fs.ErrClosed.
		r.Close()
		for _, m := range opsAllMethods {
			if err := m.do(r, "a/f"); !errors.Is(err, fs.ErrClosed) {
				t.Errorf("closed %s = %v, want fs.ErrClosed", m.method, err)
			}
		}
		opsUnchanged(t, out, before)
	})
}

// What each operation does when it succeeds, in both modes and under
// both backends.
func TestOpsSemantics(t *testing.T) {
	opsEach(t, func(t *testing.T, c opsConfig) {
		base := testfs.New(t, "outside/secret=TOPSECRET", "root/a/f=data", "root/in => a/f",
			"root/dang => a/new", "root/esc => ../outside", "root/d/sub/g=x", "root/d/out => ../../outside")
		out, rootDir := filepath.Join(base, "outside"), filepath.Join(base, "root")
		before := opsWorld(t, out)
		r := opsOpen(t, rootDir, c)
		at := func(name string) string { return filepath.Join(rootDir, name) }

		// Mkdir and MkdirAll, through ".." and an inside link.
		if err := r.Mkdir("m", 0o750); err != nil {
			t.Fatalf("Mkdir(m) = %v", err)
		}
		if fi, err := os.Stat(at("m")); err != nil || !fi.IsDir() || fi.Mode().Perm()&^0o750 != 0 {
			t.Errorf("Mkdir(m): %v, %v", fi, err)
		}
		if err := r.MkdirAll("a/../m/x/y", 0o755); err != nil {
			t.Fatalf("MkdirAll = %v", err)
		}
		if err := r.MkdirAll("m/x/y", 0o755); err != nil {
			t.Errorf("MkdirAll of an existing tree = %v", err)
		}
		if err := r.MkdirAll("dang", 0o755); err == nil {
			t.Errorf("MkdirAll(dang) = nil: a dangling link's target must not be made")
		}
		if _, err := os.Lstat(at("a/new")); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("MkdirAll(dang) made a/new: %v", err)
		}
		if err := r.MkdirAll("a/f/x", 0o755); !errors.Is(err, syscall.ENOTDIR) {
			t.Errorf("MkdirAll(a/f/x) = %v, want ENOTDIR", err)
		}

		// OpenFile: O_TRUNC, O_APPEND, O_CREATE|O_EXCL on a dangling link,
		// O_CREATE through a dangling link that stays inside.
		if err := r.WriteFile("t", []byte("0123456789"), 0o600); err != nil {
			t.Fatal(err)
		}
		f, err := r.OpenFile("t", os.O_WRONLY|os.O_TRUNC, 0)
		if err != nil {
			t.Fatal(err)
		}
		f.Write([]byte("ab"))
		f.Close()
		f, err = r.OpenFile("t", os.O_WRONLY|os.O_APPEND, 0)
		if err != nil {
			t.Fatal(err)
		}
		f.Write([]byte("cd"))
		f.Close()
		if b, err := r.ReadFile("t"); err != nil || string(b) != "abcd" {
			t.Errorf("after O_TRUNC then O_APPEND: %q, %v, want abcd", b, err)
		}
		if err := opsClose(r.OpenFile("dang", os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)); !errors.Is(err, fs.ErrExist) {
			t.Errorf("O_CREATE|O_EXCL on a dangling link = %v, want fs.ErrExist", err)
		}
		if err := r.WriteFile("dang", []byte("via link"), 0o600); err != nil {
			t.Errorf("WriteFile through an inside dangling link = %v", err)
		}
		if b, _ := os.ReadFile(at("a/new")); string(b) != "via link" {
			t.Errorf("a/new = %q, want the file made through dang", b)
		}

		// Symlink stores the target as given; following it is checked
		// at use.
		if err := r.Symlink("../outside/secret", "planted"); err != nil {
			t.Fatalf("Symlink = %v", err)
		}
		if got, err := r.Readlink("planted"); err != nil || got != "../outside/secret" {
			t.Errorf("Readlink(planted) = %q, %v", got, err)
		}
		_, err = r.ReadFile("planted")
		if !c.inRoot && !errors.Is(err, confine.ErrEscape) || c.inRoot && !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("ReadFile(planted) = %v", err)
		}
		if _, err := r.Readlink("a/f"); !errors.Is(err, syscall.EINVAL) {
			t.Errorf("Readlink of a file = %v, want EINVAL", err)
		}

		// Link never follows a final link: the new name is the link.
		if err := r.Link("in", "hard"); err != nil {
			t.Fatalf("Link(in, hard) = %v", err)
		}
		if fi, err := os.Lstat(at("hard")); err != nil || fi.Mode().Type() != fs.ModeSymlink {
			t.Errorf("Link of a symlink made %v, %v, want a symlink", fi, err)
		}

		// Rename, and Remove of a link removes the link.
		if err := r.Rename("t", "m/x/t2"); err != nil {
			t.Fatalf("Rename = %v", err)
		}
		if err := r.Remove("esc"); err != nil {
			t.Fatalf("Remove(esc) = %v", err)
		}
		if err := r.Remove("m"); !errors.Is(err, syscall.ENOTEMPTY) && !errors.Is(err, syscall.EEXIST) {
			t.Errorf("Remove of a non-empty directory = %v, want ENOTEMPTY", err)
		}
		if err := r.Remove("m/x/y"); err != nil {
			t.Errorf("Remove of an empty directory = %v", err)
		}

		// Chmod follows an inside link; Chtimes leaves a zero time alone.
		if err := r.Chmod("in", 0o604); err != nil {
			t.Fatal(err)
		}
		if fi, _ := os.Stat(at("a/f")); fi.Mode().Perm() != 0o604 {
			t.Errorf("Chmod(in): a/f mode %v, want 0604", fi.Mode())
		}
		fi0, _ := os.Stat(at("a/f"))
		if err := r.Chtimes("in", time.Time{}, opsTime); err != nil {
			t.Fatal(err)
		}
		fi1, _ := os.Stat(at("a/f"))
		st0, st1 := fi0.Sys().(*syscall.Stat_t), fi1.Sys().(*syscall.Stat_t)
		if !fi1.ModTime().Equal(opsTime) || st0.Atim != st1.Atim {
			t.Errorf("Chtimes(zero, t): mtime %v, atime %v -> %v; want mtime %v and atime unchanged", fi1.ModTime(), st0.Atim, st1.Atim, opsTime)
		}

		// Chown and Lchown, where we may.
		if os.Geteuid() == 0 {
			if err := r.Lchown("in", 65534, 65534); err != nil {
				t.Fatal(err)
			}
			lfi, _ := os.Lstat(at("in"))
			ffi, _ := os.Stat(at("a/f"))
			if lfi.Sys().(*syscall.Stat_t).Uid != 65534 || ffi.Sys().(*syscall.Stat_t).Uid == 65534 {
				t.Errorf("Lchown(in) must change the link only")
			}
			if err := r.Chown("in", 65534, -1); err != nil {
				t.Fatal(err)
			}
			if ffi, _ := os.Stat(at("a/f")); ffi.Sys().(*syscall.Stat_t).Uid != 65534 {
				t.Errorf("Chown(in) must change the target")
			}
		}

		// RemoveAll never follows a link out, and removes the link.
		if err := r.RemoveAll("d"); err != nil {
			t.Fatalf("RemoveAll(d) = %v", err)
		}
		if _, err := os.Lstat(at("d")); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("RemoveAll(d) left %v", err)
		}
		if err := r.RemoveAll("nothing/here"); err != nil {
			t.Errorf("RemoveAll of a missing name = %v, want nil", err)
		}
		for _, name := range []string{".", "nothing/.", "nothing/./", "nothing/..", "a/..", "a/../"} {
			// Refused whether or not it exists, as os.RemoveAll does,
			// and before anything is removed: os.Root empties the root
			// for "a/.." before it says EINVAL.
			if err := r.RemoveAll(name); !errors.Is(err, syscall.EINVAL) {
				t.Errorf("RemoveAll(%q) = %v, want EINVAL", name, err)
			}
		}
		if _, err := os.Lstat(at("a/f")); err != nil {
			t.Errorf("RemoveAll of names ending in a dot removed a/f: %v", err)
		}
		opsUnchanged(t, out, before)
	})
}

// MkdirAll tolerates directories made concurrently by someone else, and
// RemoveAll a tree that changes under it; neither touches the outside.
func TestOpsConcurrentMkdirAllRemoveAll(t *testing.T) {
	opsEach(t, func(t *testing.T, c opsConfig) {
		base := testfs.New(t, "outside/secret=TOPSECRET", "root/")
		out, rootDir := filepath.Join(base, "outside"), filepath.Join(base, "root")
		before := opsWorld(t, out)
		r := opsOpen(t, rootDir, c)
		for i := 0; i < 20; i++ {
			errs := make(chan error, 4)
			for g := 0; g < 4; g++ {
				go func() { errs <- r.MkdirAll("p/q/r/s", 0o755) }()
			}
			for g := 0; g < 4; g++ {
				if err := <-errs; err != nil {
					t.Fatalf("concurrent MkdirAll = %v", err)
				}
			}
			os.Symlink("../../../outside", filepath.Join(rootDir, "p/q/link"))
			go func() { errs <- r.RemoveAll("p") }()
			go func() { errs <- r.MkdirAll("p/q/r/t", 0o755) }()
			<-errs
			<-errs
			if err := r.RemoveAll("p"); err != nil {
				t.Fatalf("RemoveAll(p) = %v", err)
			}
		}
		opsUnchanged(t, out, before)
	})
}
