//go:build !pathguard_osroot

package extract_test

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"testing/fstest"

	"github.com/pathguard/pathguard/canon"
	"github.com/pathguard/pathguard/confine"
	"github.com/pathguard/pathguard/confine/extract"
	"github.com/pathguard/pathguard/internal/testfs"
)

// TestZipAttacks runs the attacks that zip can carry through Zip, and
// through the naive zip extractor first.
func TestZipAttacks(t *testing.T) {
	cases := []attack{
		{name: "zip slip", ents: []ent{file("../out/evil", "x")}, want: confine.ErrEscape, entry: "../out/evil", naive: true},
		{name: "absolute", ents: []ent{file("{out}/evil", "x")}, want: confine.ErrEscape, entry: "{out}/evil"},
		{name: "NUL", ents: []ent{file("a\x00b", "x")}, want: canon.ErrInvalid, entry: "a\x00b"},
		{name: "empty", ents: []ent{file("", "x")}, want: canon.ErrInvalid, entry: ""},
		{name: "backslash", ents: []ent{file(`..\out\evil`, "x")}, want: canon.ErrInvalid, entry: `..\out\evil`},
		{name: "symlink out then a file through it", ents: []ent{symlink("l", "../out"), file("l/evil", "x")},
			want: confine.ErrEscape, entry: "l", naive: true},
		{name: "symlink out, verbatim", ents: []ent{symlink("l", "{out}"), file("l/evil", "x")},
			opts: []extract.Option{extract.LinkVerbatim()}, want: confine.ErrSymlink, entry: "l/evil", naive: true},
		{name: "destination holds a link", pre: []string{"pre => {out}"}, ents: []ent{file("pre/secret", "pwned")},
			want: confine.ErrSymlink, entry: "pre/secret", naive: true},
		{name: "duplicate", ents: []ent{file("f", "1"), file("f", "2")}, want: fs.ErrExist, entry: "f"},
	}
	for _, a := range cases {
		t.Run(a.name, func(t *testing.T) {
			arch := func(out string) []byte {
				ents := make([]ent, len(a.ents))
				for i, e := range a.ents {
					e.name, e.link = subst(e.name, out), subst(e.link, out)
					ents[i] = e
				}
				return zipOf(t, ents...)
			}
			w := newWorld(t, a.pre...)
			naiveZip(w.dir, arch(w.out))
			if got := w.changed(t); got != a.naive {
				t.Fatalf("the naive extractor changed the outside: %v, want %v", got, a.naive)
			}
			for _, b := range backends {
				t.Run(b.String(), func(t *testing.T) {
					w := newWorld(t, a.pre...)
					z := arch(w.out)
					rep, err := extract.Zip(w.open(t, b), bytes.NewReader(z), int64(len(z)), a.opts...)
					checkRefusal(t, rep, err, a.want, subst(a.entry, w.out), false)
					if w.changed(t) {
						t.Error("outside the root changed")
					}
				})
			}
		})
	}
}

// TestZipBenign: files, directories, modes and an inside link come out.
func TestZipBenign(t *testing.T) {
	z := zipOf(t, dir("d/", 0o750), ent{name: "d/x", typ: '0', mode: 0o4751, body: "exe"}, file("f", "data"), symlink("d/l", "../f"))
	for _, b := range backends {
		t.Run(b.String(), func(t *testing.T) {
			w := newWorld(t)
			rep, err := extract.Zip(w.open(t, b), bytes.NewReader(z), int64(len(z)))
			if err != nil || len(rep.Problems()) != 0 {
				t.Fatalf("%v, %+v", err, rep.Problems())
			}
			got := testfs.Snapshot(t, w.dir)
			want := map[string]string{".": "drwxr-xr-x", "d": "drwxr-x---", "d/x": "-rwxr-x--x exe", "f": "-rw-r--r-- data", "d/l": "Lrwxrwxrwx -> ../f"}
			for k, v := range want {
				if got[k] != v {
					t.Errorf("%s: %q, want %q", k, got[k], v)
				}
			}
		})
	}
}

// TestFS: a safe os.CopyFS. Links the source holds go through the same
// policy; an outward one is refused, and nothing is written through it.
func TestFS(t *testing.T) {
	src := testfs.New(t, "a/b/f=hello", "a/l => b/f", "top=x")
	for _, b := range backends {
		t.Run(b.String(), func(t *testing.T) {
			w := newWorld(t)
			if err := os.Chmod(filepath.Join(src, "a/b"), 0o750); err != nil {
				t.Fatal(err)
			}
			rep, err := extract.FS(w.open(t, b), os.DirFS(src))
			if err != nil || len(rep.Problems()) != 0 {
				t.Fatalf("%v, %+v", err, rep.Problems())
			}
			got, want := testfs.Snapshot(t, w.dir), testfs.Snapshot(t, src)
			delete(got, ".")
			delete(want, ".")
			if len(got) != len(want) {
				t.Errorf("copied %v, want %v", got, want)
			}
			for k, v := range want {
				if got[k] != v {
					t.Errorf("%s: %q, want %q", k, got[k], v)
				}
			}
			// An fs.FS whose names or links lead out.
			w = newWorld(t, "pre => {out}")
			m := fstest.MapFS{
				"pre/secret": &fstest.MapFile{Data: []byte("pwned"), Mode: 0o644},
			}
			rep, err = extract.FS(w.open(t, b), m)
			if !errors.Is(err, confine.ErrSymlink) {
				t.Errorf("FS through a planted link: %v, %+v", err, rep)
			}
			m = fstest.MapFS{"l": &fstest.MapFile{Data: []byte("../out"), Mode: fs.ModeSymlink | 0o777}}
			if _, err := extract.FS(w.open(t, b), m); !errors.Is(err, confine.ErrEscape) {
				t.Errorf("FS with an outward link: %v", err)
			}
			if w.changed(t) {
				t.Error("outside the root changed")
			}
		})
	}
}

// TestScan: the scans say what an extraction would refuse or skip, and
// why, without writing; refusals do not stop them.
func TestScan(t *testing.T) {
	arch := tarOf(t, file("ok", "x"), file("../evil", "x"), symlink("l", "/etc"), file("l/x", "y"),
		file("ok", "dup"), ent{name: "p", typ: '6', mode: 0o600}, hardlink("h", "ok"))
	rep, err := extract.ScanTar(bytes.NewReader(arch))
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		name   string
		action extract.Action
		err    error
	}{
		{"ok", extract.Written, nil},
		{"../evil", extract.Refused, confine.ErrEscape},
		{"l", extract.Refused, confine.ErrEscape},
		{"l/x", extract.Written, nil}, // l was refused: a directory then
		{"ok", extract.Refused, fs.ErrExist},
		{"p", extract.Skipped, nil},
		{"h", extract.Written, nil},
	}
	if len(rep.Entries) != len(want) {
		t.Fatalf("%d entries, want %d: %+v", len(rep.Entries), len(want), rep.Entries)
	}
	for i, w := range want {
		e := rep.Entries[i]
		if e.Name != w.name || e.Action != w.action || (w.err != nil) != (e.Err != nil) || w.err != nil && !errors.Is(e.Err, w.err) {
			t.Errorf("entry %d: %+v, want %v %v %v", i, e, w.name, w.action, w.err)
		}
	}
	if err := rep.Err(); !errors.Is(err, confine.ErrEscape) || !errors.Is(err, fs.ErrExist) {
		t.Errorf("Err() = %v", err)
	}
	z := zipOf(t, file("../x", "y"))
	if rep, err := extract.ScanZip(bytes.NewReader(z), int64(len(z))); err != nil || len(rep.Problems()) != 1 {
		t.Errorf("ScanZip: %v, %+v", err, rep)
	}
}
