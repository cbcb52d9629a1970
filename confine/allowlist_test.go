//go:build linux && !pathguard_osroot

package confine_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/pathguard/pathguard/confine"
	"github.com/pathguard/pathguard/internal/resolve"
	"github.com/pathguard/pathguard/internal/testfs"
)

func TestAllowlist(t *testing.T) {
	dir := testfs.New(t,
		"etc/passwd=OUTSIDE",
		"srv/www/index=WWW", "srv/www/x=WX", "srv/www/d/e/x=DEX", "srv/www/d/x=DX", "srv/www/l => d/e",
		"srv/www/sub/f=SUB", "srv/www2/f=WWW2", "srv/www/esc => ../../etc/passwd")
	www := filepath.Join(dir, "srv/www")
	sub := filepath.Join(dir, "srv/www/sub")
	www2 := filepath.Join(dir, "srv/www2")

	cases := []struct {
		path    string
		root    string // the allowed directory Locate picks
		rest    string // the remainder Locate returns
		want    string // Open's content
		wantErr error  // of Open (and of Locate, when root is "")
		reason  string
	}{
		{path: www + "/index", root: www, rest: "index", want: "WWW", reason: "a file in an allowed directory"},
		{path: sub + "/f", root: sub, rest: "f", want: "SUB", reason: "the longest allowed prefix wins"},
		{path: www2 + "/f", root: www2, rest: "f", want: "WWW2", reason: "whole components: www2 is not under www"},
		{path: www, root: www, rest: ".", want: "<dir>", reason: "the allowed directory itself"},
		{path: filepath.Dir(www) + "//www/./index", root: www, rest: "index", want: "WWW", reason: `"//" and "." are removed`},
		{path: www + "/l/../x", root: www, rest: "l/../x", want: "DX", reason: `".." is kept and resolved through the link (d/e/.. = d)`},
		{path: www + "/../www2/f", root: www, rest: "../www2/f", wantErr: confine.ErrEscape, reason: `".." above the allowed directory escapes, even into another`},
		{path: www + "/../../etc/passwd", root: www, rest: "../../etc/passwd", wantErr: confine.ErrEscape, reason: "the classic traversal"},
		{path: www + "/esc", root: www, rest: "esc", wantErr: confine.ErrEscape, reason: "a link out of the allowed directory"},
		{path: www + "/d/", root: www, rest: "d/", want: "<dir>", reason: "a trailing slash is kept"},
		{path: www + "/index/.", root: www, rest: "index/", wantErr: syscall.ENOTDIR, reason: `a trailing "/." asks for a directory, as a trailing slash does`},
		{path: www + "/l/.", root: www, rest: "l/", want: "<dir>", reason: `"link/." follows the link`},
		{path: www + "/nothere", root: www, rest: "nothere", wantErr: fs.ErrNotExist, reason: "missing"},
		{path: filepath.Join(dir, "etc/passwd"), wantErr: confine.ErrEscape, reason: "under no allowed directory"},
		{path: "/", wantErr: confine.ErrEscape, reason: "the file-system root"},
		{path: "srv/www/index", wantErr: confine.ErrEscape, reason: "a relative path is under nothing"},
		{path: "", wantErr: resolve.ErrInvalid, reason: "an empty path"},
		{path: www + "/a\x00b", wantErr: resolve.ErrInvalid, reason: "a NUL byte"},
	}
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			a, err := confine.OpenAllowlist([]string{www, sub, www2}, b.opt)
			if err != nil {
				t.Fatal(err)
			}
			defer a.Close()
			for _, c := range cases {
				r, rest, err := a.Locate(c.path)
				if c.root == "" {
					if !errors.Is(err, c.wantErr) {
						t.Errorf("Locate(%q) = %v, want %v (%s)", c.path, err, c.wantErr, c.reason)
					}
					checkPathErr(t, "Locate", c.path, err)
				} else if err != nil || r.Name() != c.root || rest != c.rest {
					name := ""
					if r != nil {
						name = r.Name()
					}
					t.Errorf("Locate(%q) = %q, %q, %v, want %q, %q (%s)", c.path, name, rest, err, c.root, c.rest, c.reason)
				}

				f, err := a.Open(c.path)
				got := ""
				if err == nil {
					got = describeFile(t, f)
					f.Close()
				}
				switch {
				case c.wantErr != nil:
					if !errors.Is(err, c.wantErr) {
						t.Errorf("Open(%q) = %q, %v, want %v (%s)", c.path, got, err, c.wantErr, c.reason)
					}
					checkPathErr(t, "Open", c.path, err)
				case err != nil || got != c.want:
					t.Errorf("Open(%q) = %q, %v, want %q (%s)", c.path, got, err, c.want, c.reason)
				}
			}

			// OpenFile creates inside, and carries the caller's path on
			// failure.
			p := sub + "/new"
			f, err := a.OpenFile(p, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
			if err != nil {
				t.Fatalf("OpenFile(%q) = %v", p, err)
			}
			f.Close()
			defer os.Remove(p)
			_, err = a.OpenFile(p, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
			if !errors.Is(err, fs.ErrExist) {
				t.Errorf("OpenFile(%q, O_EXCL) again = %v, want %v", p, err, fs.ErrExist)
			}
			checkPathErr(t, "OpenFile", p, err)
		})
	}

	t.Run("closed", func(t *testing.T) {
		a, err := confine.OpenAllowlist([]string{www})
		if err != nil {
			t.Fatal(err)
		}
		if err := a.Close(); err != nil {
			t.Fatalf("Close() = %v", err)
		}
		if _, err := a.Open(www + "/index"); !errors.Is(err, fs.ErrClosed) {
			t.Errorf("Open(%q) on a closed Allowlist = %v, want %v", www+"/index", err, fs.ErrClosed)
		}
		if _, _, err := a.Locate(www + "/index"); !errors.Is(err, fs.ErrClosed) {
			t.Errorf("Locate(%q) on a closed Allowlist = %v, want %v", www+"/index", err, fs.ErrClosed)
		}
	})

	t.Run("bad dirs", func(t *testing.T) {
		for _, c := range []struct {
			dirs []string
			want error
		}{
			{[]string{"srv/www"}, resolve.ErrInvalid},
			{[]string{www, filepath.Join(dir, "nothere")}, fs.ErrNotExist},
			{[]string{www2 + "/f"}, syscall.ENOTDIR},
		} {
			a, err := confine.OpenAllowlist(c.dirs)
			if a != nil {
				a.Close()
			}
			if !errors.Is(err, c.want) {
				t.Errorf("OpenAllowlist(%q) = %v, want %v", c.dirs, err, c.want)
			}
		}
	})
}

func checkPathErr(t *testing.T, op, path string, err error) {
	t.Helper()
	var pe *fs.PathError
	if !errors.As(err, &pe) || pe.Path != path {
		t.Errorf("%s(%q) error %#v does not carry the caller's path", op, path, err)
	}
}

// TestAllowlistCloseRace runs Open against Close: every Open either works
// or fails with fs.ErrClosed, never a panic or a data race (run with -race).
func TestAllowlistCloseRace(t *testing.T) {
	dir := testfs.New(t, "a/f=x")
	for i := 0; i < 50; i++ {
		a, err := confine.OpenAllowlist([]string{filepath.Join(dir, "a")})
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() {
			f, err := a.Open(filepath.Join(dir, "a/f"))
			if err == nil {
				f.Close()
			}
			done <- err
		}()
		a.Close()
		if err := <-done; err != nil && !errors.Is(err, fs.ErrClosed) {
			t.Fatalf("Open during Close = %v, want nil or fs.ErrClosed", err)
		}
	}
}
