//go:build !pathguard_osroot

package extract_test

import (
	"archive/tar"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/pathguard/pathguard/confine"
	"github.com/pathguard/pathguard/confine/extract"
	"github.com/pathguard/pathguard/internal/testfs"
)

// benign is a small source tree as a release tarball holds it.
func benign(t *testing.T) []byte {
	return tarOf(t,
		dir("pkg/", 0o755),
		file("pkg/README", "read me\n"),
		dir("pkg/bin/", 0o755),
		ent{name: "pkg/bin/run", typ: tar.TypeReg, mode: 0o4755, body: "#!/bin/sh\n"}, // set-uid: cleared
		dir("pkg/ro/", 0o555),
		file("pkg/ro/inside", "in a read-only directory"),
		dir("pkg/locked/", 0o000),
		file("pkg/locked/f", "in a 0o000 directory"),
		ent{name: "pkg/private", typ: tar.TypeReg, mode: 0o600, body: "p"},
		dir("pkg/sticky/", 0o1777), // sticky: cleared
		symlink("pkg/link", "README"),
		symlink("pkg/bin/up", "../README"),
		symlink("pkg/dangling", "nowhere"),
		hardlink("pkg/hard", "pkg/README"),
		file("implied/parent/f", "its parents are not in the archive"),
	)
}

// TestBenign: a benign tarball extracts whole, modes and times kept (no
// set-id or sticky bits), under both backends, and the Report says so.
func TestBenign(t *testing.T) {
	for _, b := range backends {
		t.Run(b.String(), func(t *testing.T) {
			w := newWorld(t)
			rep, err := extract.Tar(w.open(t, b), bytes.NewReader(benign(t)))
			if err != nil {
				t.Fatal(err)
			}
			if p := rep.Problems(); len(p) != 0 {
				t.Errorf("Problems() = %+v", p)
			}
			for name, want := range map[string]fs.FileMode{
				"pkg":         fs.ModeDir | 0o755,
				"pkg/bin/run": 0o755,
				"pkg/ro":      fs.ModeDir | 0o555,
				"pkg/locked":  fs.ModeDir,
				"pkg/private": 0o600,
				"pkg/sticky":  fs.ModeDir | 0o777,
				"pkg/link":    fs.ModeSymlink | 0o777,
				"implied":     fs.ModeDir | 0o755,
			} {
				fi, err := os.Lstat(filepath.Join(w.dir, name))
				if err != nil {
					t.Errorf("%s: %v", name, err)
					continue
				}
				if fi.Mode() != want {
					t.Errorf("%s: mode %v, want %v", name, fi.Mode(), want)
				}
				if fi.Mode().Type() != fs.ModeSymlink && name != "implied" && !fi.ModTime().Equal(testTime) {
					t.Errorf("%s: mtime %v, want %v", name, fi.ModTime(), testTime)
				}
			}
			a, _ := os.Stat(filepath.Join(w.dir, "pkg/README"))
			h, _ := os.Stat(filepath.Join(w.dir, "pkg/hard"))
			if a == nil || h == nil || !os.SameFile(a, h) {
				t.Errorf("pkg/hard is not a hard link to pkg/README")
			}
			if os.Geteuid() != 0 {
				return
			}
			// Owners: the extracting user's, unless KeepOwners.
			if st := statT(t, filepath.Join(w.dir, "pkg/README")); st.Uid != 0 {
				t.Errorf("owner %d without KeepOwners", st.Uid)
			}
			w = newWorld(t)
			if _, err := extract.Tar(w.open(t, b), bytes.NewReader(benign(t)), extract.KeepOwners()); err != nil {
				t.Fatal(err)
			}
			for _, name := range []string{"pkg/README", "pkg/ro", "pkg/link"} {
				if st := statT(t, filepath.Join(w.dir, name)); st.Uid != 1234 || st.Gid != 5678 {
					t.Errorf("KeepOwners: %s owned by %d:%d, want 1234:5678", name, st.Uid, st.Gid)
				}
			}
			if fi, _ := os.Lstat(filepath.Join(w.dir, "pkg/bin/run")); fi == nil || fi.Mode() != 0o755 {
				t.Errorf("KeepOwners: pkg/bin/run mode %v, want 0o755", fi)
			}
		})
	}
}

func statT(t *testing.T, p string) *syscall.Stat_t {
	t.Helper()
	fi, err := os.Lstat(p)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Sys().(*syscall.Stat_t)
}

// TestAsGNUTar: the benign tarball comes out as GNU tar extracts it with
// --no-same-owner (modes as its superuser default keeps them, set-id bits
// aside: GNU tar keeps those, pathguard clears them, so the archive here
// has none).
func TestAsGNUTar(t *testing.T) {
	gnu, err := exec.LookPath("tar")
	if err != nil {
		t.Skip("no tar")
	}
	if out, _ := exec.Command(gnu, "--version").Output(); !bytes.Contains(out, []byte("GNU tar")) {
		t.Skip("not GNU tar")
	}
	if os.Geteuid() != 0 {
		t.Skip("GNU tar keeps modes unmasked only for root")
	}
	arch := tarOf(t,
		dir("pkg/", 0o755), file("pkg/README", "read me\n"), dir("pkg/ro/", 0o555),
		file("pkg/ro/inside", "x"), dir("pkg/locked/", 0o000), file("pkg/locked/f", "y"),
		ent{name: "pkg/exe", typ: tar.TypeReg, mode: 0o750, body: "#!/bin/sh\n"},
		dir("pkg/bin/", 0o711), symlink("pkg/link", "README"), symlink("pkg/bin/up", "../README"), hardlink("pkg/hard", "pkg/README"),
		file("implied/parent/f", "z"),
	)
	src := filepath.Join(t.TempDir(), "a.tar")
	if err := os.WriteFile(src, arch, 0o644); err != nil {
		t.Fatal(err)
	}
	want := t.TempDir()
	if out, err := exec.Command(gnu, "-x", "--no-same-owner", "-f", src, "-C", want).CombinedOutput(); err != nil {
		t.Fatalf("GNU tar: %v\n%s", err, out)
	}
	for _, b := range backends {
		t.Run(b.String(), func(t *testing.T) {
			w := newWorld(t)
			if _, err := extract.Tar(w.open(t, b), bytes.NewReader(arch)); err != nil {
				t.Fatal(err)
			}
			got, exp := treeOf(t, w.dir), treeOf(t, want)
			for k, v := range exp {
				if got[k] != v {
					t.Errorf("%s: %q, GNU tar %q", k, got[k], v)
				}
			}
			for k, v := range got {
				if _, ok := exp[k]; !ok {
					t.Errorf("%s: %q, not made by GNU tar", k, v)
				}
			}
		})
	}
}

// treeOf is testfs.Snapshot plus owners, link counts and the mtimes of
// all but symlinks, implied directories (their times are the time of
// extraction) and pkg/bin: GNU tar creates a link whose target holds
// ".." last of all (its "delayed link", against the attack that the link
// would enable), after it set the time of the link's directory, so that
// directory gets the time of extraction.
func treeOf(t *testing.T, dir string) map[string]string {
	m := testfs.Snapshot(t, dir)
	for k, v := range m {
		p := filepath.Join(dir, k)
		st := statT(t, p)
		fi, _ := os.Lstat(p)
		v += " " + fmt.Sprintf("%d:%d:%d", st.Uid, st.Gid, st.Nlink)
		if fi.Mode().Type() != fs.ModeSymlink && !strings.HasPrefix(k, "implied") && k != "." && k != "pkg/bin" {
			v += " " + fi.ModTime().UTC().String()
		}
		m[k] = v
	}
	return m
}

// TestReadOnlyDirsAsUser: a 0o555 and a 0o000 directory in the archive
// do not stop their own children for an unprivileged user, who has no
// way around the modes: the modes are applied last. As root (where the
// modes stop nothing) the test re-runs itself as uid 65534.
func TestReadOnlyDirsAsUser(t *testing.T) {
	arch := tarOf(t, dir("ro/", 0o555), file("ro/f", "x"), dir("ro/sub/", 0o500), file("ro/sub/g", "y"),
		dir("z/", 0o000), file("z/f", "z"))
	if os.Getenv("EXTRACT_AS_USER") != "" {
		dir := os.Getenv("EXTRACT_AS_USER")
		r, err := confine.OpenRoot(dir)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		if _, err := extract.Tar(r, bytes.NewReader(arch)); err != nil {
			t.Fatal(err)
		}
		return
	}
	// Not t.TempDir: uid 65534 must reach it, and run a copy of the test
	// binary from it.
	base, err := os.MkdirTemp("", "extract-user-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(base)
	if err := os.Chmod(base, 0o755); err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(base, "d")
	if err := os.Mkdir(dst, 0o755); err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() == 0 {
		if err := os.Chown(dst, 65534, 65534); err != nil {
			t.Fatal(err)
		}
		bin := filepath.Join(base, "extract.test")
		exe, err := os.ReadFile(os.Args[0])
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(bin, exe, 0o755); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(bin, "-test.run=^TestReadOnlyDirsAsUser$", "-test.count=1")
		cmd.Env = append(os.Environ(), "EXTRACT_AS_USER="+dst)
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
		if out, err := cmd.CombinedOutput(); err != nil {
			var ee *exec.ExitError
			if errors.As(err, &ee) || len(out) > 0 {
				t.Fatalf("as uid 65534: %v\n%s", err, out)
			}
			t.Skipf("cannot run as uid 65534: %v", err)
		}
	} else {
		r, err := confine.OpenRoot(dst)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		if _, err := extract.Tar(r, bytes.NewReader(arch)); err != nil {
			t.Fatal(err)
		}
	}
	// The directories' modes, then (opened up, for a user who is not
	// root) what they hold.
	for _, c := range []struct {
		name string
		want fs.FileMode
	}{
		{"ro/sub", fs.ModeDir | 0o500}, {"ro", fs.ModeDir | 0o555}, {"z", fs.ModeDir},
		{"ro/f", 0o644}, {"ro/sub/g", 0o644}, {"z/f", 0o644},
	} {
		p := filepath.Join(dst, c.name)
		if fi, err := os.Lstat(p); err != nil || fi.Mode() != c.want {
			t.Errorf("%s: %v, %v; want mode %v", c.name, fi, err, c.want)
		}
		if c.want.IsDir() {
			os.Chmod(p, 0o755)
		}
	}
}

// TestReplace: with Replace an existing file, link or special file is
// replaced by renaming a new file over it, never written through; a
// directory is never replaced.
func TestReplace(t *testing.T) {
	for _, b := range backends {
		t.Run(b.String(), func(t *testing.T) {
			w := newWorld(t, "pf => {out}/secret", "old=old", "d/", "pd => {out}")
			arch := tarOf(t, file("pf", "new pf"), file("old", "new old"), file("dup", "1"), file("dup", "2"),
				symlink("old", "dup"), hardlink("pf", "dup"))
			rep, err := extract.Tar(w.open(t, b), bytes.NewReader(arch), extract.Replace())
			if err != nil {
				t.Fatal(err)
			}
			if w.changed(t) {
				t.Error("outside the root changed")
			}
			if got, _ := os.ReadFile(filepath.Join(w.dir, "dup")); string(got) != "2" {
				t.Errorf("dup = %q, want the last entry's", got)
			}
			if got, _ := os.Readlink(filepath.Join(w.dir, "old")); got != "dup" {
				t.Errorf("old -> %q, want dup", got)
			}
			a, _ := os.Lstat(filepath.Join(w.dir, "pf"))
			d, _ := os.Lstat(filepath.Join(w.dir, "dup"))
			if a == nil || d == nil || !os.SameFile(a, d) {
				t.Error("pf is not a hard link to dup")
			}
			if len(rep.Problems()) != 0 {
				t.Errorf("Problems() = %+v", rep.Problems())
			}
			// No temporary file is left.
			des, _ := os.ReadDir(w.dir)
			for _, de := range des {
				if strings.HasPrefix(de.Name(), ".extract-") {
					t.Errorf("left behind: %s", de.Name())
				}
			}
			for _, a := range []struct {
				ents []ent
				want error
			}{
				{[]ent{file("d", "x")}, fs.ErrExist},
				{[]ent{file("pd/secret", "pwned")}, confine.ErrSymlink},
				{[]ent{file("pd", "x"), file("pd/secret", "pwned")}, syscall.ENOTDIR}, // the link is replaced first
			} {
				_, err := extract.Tar(w.open(t, b), bytes.NewReader(tarOf(t, a.ents...)), extract.Replace())
				if !errors.Is(err, a.want) {
					t.Errorf("Replace %v: %v, want %v", a.ents, err, a.want)
				}
			}
			if w.changed(t) {
				t.Error("outside the root changed")
			}
		})
	}
}

// TestGlobalHeader: a PAX global header, as git archive writes first, is
// no entry: nothing is skipped or reported for it.
func TestGlobalHeader(t *testing.T) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	tw.WriteHeader(&tar.Header{Typeflag: tar.TypeXGlobalHeader, Name: "pax_global_header", PAXRecords: map[string]string{"comment": "0123abcd"}})
	tw.WriteHeader(&tar.Header{Name: "f", Mode: 0o644, Size: 1})
	tw.Write([]byte("x"))
	tw.WriteHeader(&tar.Header{Typeflag: tar.TypeXGlobalHeader, Name: "pax_global_header", PAXRecords: map[string]string{"comment": "again"}})
	tw.Close()
	w := newWorld(t)
	rep, err := extract.Tar(w.open(t, backends[0]), bytes.NewReader(buf.Bytes()))
	if err != nil || len(rep.Entries) != 1 || rep.Entries[0].Name != "f" || rep.Entries[0].Action != extract.Written {
		t.Errorf("%v, %+v; want f written and nothing else", err, rep)
	}
}

// TestSpecialFiles: FIFOs and devices are skipped and reported unless
// WithSpecialFiles; sockets and unknown types are always skipped.
func TestSpecialFiles(t *testing.T) {
	arch := tarOf(t, ent{name: "p", typ: tar.TypeFifo, mode: 0o640}, ent{name: "c", typ: tar.TypeChar, mode: 0o600},
		ent{name: "x", typ: 'Z', mode: 0o600})
	for _, b := range backends {
		t.Run(b.String(), func(t *testing.T) {
			w := newWorld(t)
			rep, err := extract.Tar(w.open(t, b), bytes.NewReader(arch))
			if err != nil {
				t.Fatal(err)
			}
			if len(rep.Problems()) != 3 {
				t.Errorf("Problems() = %+v, want 3 skipped", rep.Problems())
			}
			for _, e := range rep.Entries {
				if e.Action != extract.Skipped || e.Reason == "" || e.Err != nil {
					t.Errorf("%+v: want skipped, with a reason and no error", e)
				}
			}
			if des, _ := os.ReadDir(w.dir); len(des) != 0 {
				t.Errorf("created: %v", des)
			}
			w = newWorld(t)
			arch := tarOf(t, ent{name: "p", typ: tar.TypeFifo, mode: 0o6640})
			if _, err := extract.Tar(w.open(t, b), bytes.NewReader(arch), extract.WithSpecialFiles()); err != nil {
				t.Fatal(err)
			}
			if fi, err := os.Lstat(filepath.Join(w.dir, "p")); err != nil || fi.Mode() != fs.ModeNamedPipe|0o640 {
				t.Errorf("p: %v, %v; want a FIFO 0o640", fi, err)
			}
		})
	}
}
