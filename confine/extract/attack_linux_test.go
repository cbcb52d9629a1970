//go:build !pathguard_osroot

package extract_test

import (
	"bytes"
	"errors"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/pathguard/pathguard/canon"
	"github.com/pathguard/pathguard/confine"
	"github.com/pathguard/pathguard/confine/extract"
	"github.com/pathguard/pathguard/internal/testfs"
)

// backends are the two resolution backends every extraction runs under.
var backends = []confine.Resolver{confine.ResolverOpenat2, confine.ResolverWalk}

// world is a destination directory beside a canary tree: base/root is
// where archives go, base/out holds what no extraction may touch.
type world struct {
	base, dir, out string
	before         map[string]string
}

func newWorld(t *testing.T, pre ...string) *world {
	t.Helper()
	base := t.TempDir()
	w := &world{base: base, dir: filepath.Join(base, "root"), out: filepath.Join(base, "out")}
	testfs.Make(t, w.out, "secret=canary", "sub/s2=x")
	if err := os.Mkdir(w.dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, p := range pre {
		testfs.Make(t, w.dir, subst(p, w.out))
	}
	w.before = testfs.Snapshot(t, w.out)
	// Archives make 0o555 and 0o000 directories: open them up so that
	// TempDir's cleanup, which runs after this one, can remove them
	// when the tests do not run as root.
	t.Cleanup(func() {
		filepath.WalkDir(w.base, func(p string, d fs.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				os.Chmod(p, 0o755)
			}
			return nil
		})
	})
	return w
}

// changed reports whether anything outside the root changed: the canary
// tree, or a new entry beside root and out.
func (w *world) changed(t *testing.T) bool {
	t.Helper()
	des, err := os.ReadDir(w.base)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, d := range des {
		names = append(names, d.Name())
	}
	return !slices.Equal(names, []string{"out", "root"}) || !maps.Equal(testfs.Snapshot(t, w.out), w.before)
}

func (w *world) open(t *testing.T, b confine.Resolver) *confine.Root {
	t.Helper()
	r, err := confine.OpenRoot(w.dir, confine.WithResolver(b))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// attack is a malicious archive and what the extraction must say of it.
type attack struct {
	name  string
	pre   []string // the destination before ("{out}" is the canary dir)
	ents  []ent
	opts  []extract.Option
	want  error  // the sentinel of the refusal
	entry string // the entry the error names
	// naive: the naive extractor changes something outside the root with
	// this archive, so the canary check is seen to catch it.
	naive bool
}

var attacks = []attack{
	{name: "zip slip", ents: []ent{file("../out/evil", "x")}, want: confine.ErrEscape, entry: "../out/evil", naive: true},
	{name: "zip slip deep", ents: []ent{file("a/b/../../../out/secret", "pwned")}, want: confine.ErrEscape, entry: "a/b/../../../out/secret", naive: true},
	{name: "dotdot inside", ents: []ent{dir("a/", 0o755), file("a/../f", "x")}, want: canon.ErrInvalid, entry: "a/../f"},
	{name: "absolute", ents: []ent{file("{out}/evil", "x")}, want: confine.ErrEscape, entry: "{out}/evil"},
	{name: "absolute slash", ents: []ent{file("/", "x")}, want: confine.ErrEscape, entry: "/"},
	{name: "backslash", ents: []ent{file(`..\out\evil`, "x")}, want: canon.ErrInvalid, entry: `..\out\evil`},
	{name: "drive letter", ents: []ent{file("C:evil", "x")}, want: canon.ErrInvalid, entry: "C:evil"},
	{name: "long component", ents: []ent{file(strings.Repeat("n", 256), "x")}, want: canon.ErrInvalid, entry: strings.Repeat("n", 256)},
	{name: "deep name", ents: []ent{file(strings.Repeat("d/", 130)+"f", "x")}, want: extract.ErrLimit, entry: strings.Repeat("d/", 130) + "f"},
	{name: "trailing slash on a file", ents: []ent{file("f/", "x")}, want: canon.ErrInvalid, entry: "f/"},

	{name: "symlink out then a file through it",
		ents: []ent{symlink("l", "../out"), file("l/evil", "x")},
		want: confine.ErrEscape, entry: "l", naive: true},
	{name: "symlink out, verbatim, then a file through it",
		ents: []ent{symlink("l", "../out"), file("l/evil", "x")}, opts: []extract.Option{extract.LinkVerbatim()},
		want: confine.ErrSymlink, entry: "l/evil", naive: true},
	{name: "absolute symlink then a hard link through it",
		ents: []ent{symlink("etc", "{out}"), hardlink("h", "etc/secret"), file("h", "pwned")},
		want: confine.ErrEscape, entry: "etc", naive: true},
	{name: "absolute symlink, verbatim, then a hard link through it",
		ents: []ent{symlink("etc", "{out}"), hardlink("h", "etc/secret"), file("h", "pwned")}, opts: []extract.Option{extract.LinkVerbatim()},
		want: confine.ErrSymlink, entry: "h", naive: true},
	{name: "symlink inside then a file through it",
		ents: []ent{dir("d/", 0o755), symlink("l", "d"), file("l/f", "x")},
		want: confine.ErrSymlink, entry: "l/f"},
	{name: "symlink up too far",
		ents: []ent{dir("a/", 0o755), symlink("a/up", "../.."), file("a/up/out/evil", "x")},
		want: confine.ErrEscape, entry: "a/up", naive: true},
	{name: "symlink dotdot after a link",
		ents: []ent{symlink("l", "."), symlink("m", "l/../out"), file("m/evil", "x")},
		want: confine.ErrEscape, entry: "m", naive: true},
	{name: "symlink denied", ents: []ent{symlink("l", "f")}, opts: []extract.Option{extract.LinkDeny()},
		want: confine.ErrSymlink, entry: "l"},

	{name: "destination holds a link to a directory",
		pre:  []string{"pre => {out}"},
		ents: []ent{file("pre/evil", "x")}, want: confine.ErrSymlink, entry: "pre/evil", naive: true},
	{name: "destination holds a link, entry is a directory",
		pre:  []string{"pre => {out}"},
		ents: []ent{dir("pre/", 0o755), file("pre/evil", "x")}, want: confine.ErrSymlink, entry: "pre/", naive: true},
	{name: "destination holds a link to a file",
		pre:  []string{"pf => {out}/secret"},
		ents: []ent{file("pf", "pwned")}, want: fs.ErrExist, entry: "pf", naive: true},
	{name: "destination holds a link deeper",
		pre:  []string{"a/b => {out}/sub"},
		ents: []ent{file("a/b/s2", "pwned")}, want: confine.ErrSymlink, entry: "a/b/s2", naive: true},
	{name: "destination holds a file",
		pre:  []string{"f=old"},
		ents: []ent{file("f", "new")}, want: fs.ErrExist, entry: "f"},

	{name: "duplicate file", ents: []ent{file("f", "1"), file("f", "2")}, want: fs.ErrExist, entry: "f"},
	{name: "file then directory", ents: []ent{file("f", "1"), dir("f/", 0o755)}, want: fs.ErrExist, entry: "f/"},
	{name: "file then a file under it", ents: []ent{file("f", "1"), file("f/g", "2")}, want: syscall.ENOTDIR, entry: "f/g"},
	{name: "link then file of the same name",
		ents: []ent{symlink("x", "../out/secret"), file("x", "pwned")}, opts: []extract.Option{extract.LinkVerbatim()},
		want: fs.ErrExist, entry: "x", naive: true},

	{name: "hard link to a directory", ents: []ent{dir("d/", 0o755), hardlink("h", "d")}, want: extract.ErrHardLink, entry: "h"},
	{name: "hard link to a file already there", pre: []string{"old=x"}, ents: []ent{hardlink("h", "old")}, want: extract.ErrHardLink, entry: "h"},
	{name: "hard link to a missing file", ents: []ent{hardlink("h", "nope")}, want: extract.ErrHardLink, entry: "h"},
	{name: "hard link out", ents: []ent{hardlink("h", "../out/secret"), file("h", "pwned")}, want: confine.ErrEscape, entry: "h", naive: true},
	{name: "hard link absolute", ents: []ent{hardlink("h", "{out}/secret")}, want: confine.ErrEscape, entry: "h"},
	{name: "hard link to a symlink",
		ents: []ent{file("f", "x"), symlink("s", "f"), hardlink("h", "s")}, want: confine.ErrSymlink, entry: "h"},
	{name: "hard link to a link already there",
		pre:  []string{"s => {out}/secret"},
		ents: []ent{hardlink("h", "s"), file("h", "pwned")}, want: confine.ErrSymlink, entry: "h", naive: true},
}

func (a attack) archive(t *testing.T, out string) []byte {
	ents := slices.Clone(a.ents)
	for i := range ents {
		ents[i].name = subst(ents[i].name, out)
		ents[i].link = subst(ents[i].link, out)
	}
	return tarOf(t, ents...)
}

// TestTarAttacks runs each malicious archive through Tar under both
// backends, stopping at the refusal and with SkipRefused: the refusal
// names the entry and matches the sentinel, and nothing outside the root
// changes. The naive extractor is run on the same archive first: where
// the case says so, it must change the canary, or the check proves
// nothing.
func TestTarAttacks(t *testing.T) {
	for _, a := range attacks {
		t.Run(a.name, func(t *testing.T) {
			w := newWorld(t, a.pre...)
			naiveTar(w.dir, bytes.NewReader(a.archive(t, w.out)))
			if got := w.changed(t); got != a.naive {
				t.Fatalf("the naive extractor changed the outside: %v, want %v", got, a.naive)
			}
			for _, b := range backends {
				for _, skip := range []bool{false, true} {
					name := b.String()
					if skip {
						name += "/SkipRefused"
					}
					t.Run(name, func(t *testing.T) {
						w := newWorld(t, a.pre...)
						opts := slices.Clone(a.opts)
						if skip {
							opts = append(opts, extract.SkipRefused())
						}
						rep, err := extract.Tar(w.open(t, b), bytes.NewReader(a.archive(t, w.out)), opts...)
						checkRefusal(t, rep, err, a.want, subst(a.entry, w.out), skip)
						if w.changed(t) {
							t.Errorf("outside the root changed: %v", testfs.Snapshot(t, w.base))
						}
					})
				}
			}
		})
	}
}

// checkRefusal checks that entry was refused with want (or skipped for
// it, with skip and a want that is no limit), and that err says so.
func checkRefusal(t *testing.T, rep *extract.Report, err, want error, entry string, skip bool) {
	t.Helper()
	if rep == nil {
		t.Fatalf("nil Report (error %v)", err)
	}
	action := extract.Refused
	if skip && !errors.Is(want, extract.ErrLimit) {
		action = extract.Skipped
		if err != nil {
			t.Fatalf("with SkipRefused: error %v, want nil", err)
		}
	} else {
		if !errors.Is(err, want) {
			t.Fatalf("error %v, want %v", err, want)
		}
		var pe *fs.PathError
		if !errors.As(err, &pe) || pe.Op != "extract" || pe.Path != entry {
			t.Fatalf("error %#v does not name the entry %q", err, entry)
		}
		if err := rep.Err(); !errors.Is(err, want) {
			t.Errorf("Report.Err() = %v, want %v", err, want)
		}
	}
	for _, e := range rep.Entries {
		if e.Name == entry && e.Action == action && errors.Is(e.Err, want) && e.Reason != "" {
			return
		}
	}
	t.Errorf("no Report line %s %q for %v: %+v", action, entry, want, rep.Entries)
}
