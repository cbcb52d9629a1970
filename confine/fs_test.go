//go:build linux && !pathguard_osroot

package confine_test

import (
	"errors"
	"io/fs"
	"path/filepath"
	"testing"
	"testing/fstest"

	"github.com/pathguard/pathguard/confine"
	"github.com/pathguard/pathguard/internal/testfs"
)

func TestFSConformance(t *testing.T) {
	opsEach(t, func(t *testing.T, c opsConfig) {
		dir := testfs.New(t, "a/f=data", "a/b/g=deeper", "top=t", "empty/", "l => a/f", "dl => a/b", "a/up => ../top")
		r := opsOpen(t, dir, c)
		fsys := r.FS()
		for _, iface := range []struct {
			name string
			ok   bool
		}{
			{"StatFS", fsIs[fs.StatFS](fsys)},
			{"ReadFileFS", fsIs[fs.ReadFileFS](fsys)},
			{"ReadDirFS", fsIs[fs.ReadDirFS](fsys)},
			{"ReadLinkFS", fsIs[fs.ReadLinkFS](fsys)},
		} {
			if !iface.ok {
				t.Errorf("Root.FS() is not an fs.%s", iface.name)
			}
		}
		if err := fstest.TestFS(fsys, "a/f", "a/b/g", "top", "empty", "l", "dl", "a/up"); err != nil {
			t.Fatal(err)
		}
		if got, err := fs.ReadLink(fsys, "l"); err != nil || got != "a/f" {
			t.Errorf("ReadLink(l) = %q, %v, want a/f", got, err)
		}
		if fi, err := fs.Lstat(fsys, "l"); err != nil || fi.Mode().Type() != fs.ModeSymlink {
			t.Errorf("Lstat(l) = %v, %v, want a link", fi, err)
		}
		if b, err := fs.ReadFile(fsys, "l"); err != nil || string(b) != "data" {
			t.Errorf("ReadFile(l) = %q, %v, want data", b, err)
		}
	})
}

func fsIs[T any](v any) bool { _, ok := v.(T); return ok }

// Names fs.ValidPath refuses are fs.ErrInvalid, before the Root is asked;
// names that escape through links are the Root's own errors.
func TestFSInvalidAndEscaping(t *testing.T) {
	opsEach(t, func(t *testing.T, c opsConfig) {
		base := testfs.New(t, "outside/secret=TOPSECRET", "root/f=x", "root/esc => ../outside/secret")
		r := opsOpen(t, filepath.Join(base, "root"), c)
		fsys := r.FS().(interface {
			fs.StatFS
			fs.ReadFileFS
			fs.ReadDirFS
			fs.ReadLinkFS
		})
		calls := map[string]func(string) error{
			"Open":     func(n string) error { f, err := fsys.Open(n); return opsCloseFile(f, err) },
			"Stat":     func(n string) error { _, err := fsys.Stat(n); return err },
			"Lstat":    func(n string) error { _, err := fsys.Lstat(n); return err },
			"ReadFile": func(n string) error { _, err := fsys.ReadFile(n); return err },
			"ReadDir":  func(n string) error { _, err := fsys.ReadDir(n); return err },
			"ReadLink": func(n string) error { _, err := fsys.ReadLink(n); return err },
		}
		for method, call := range calls {
			for _, name := range []string{"", "..", "../outside/secret", "/etc/passwd", "f/", "./f", "a//f", "f\x00"} {
				err := call(name)
				var pe *fs.PathError
				if !errors.Is(err, fs.ErrInvalid) || !errors.As(err, &pe) || pe.Path != name {
					t.Errorf("%s(%q) = %v, want a *fs.PathError for fs.ErrInvalid", method, name, err)
				}
			}
			if method == "Lstat" || method == "ReadLink" {
				continue // they act on the link itself
			}
			err := call("esc")
			if !c.inRoot && !errors.Is(err, confine.ErrEscape) {
				t.Errorf("%s(esc) = %v, want ErrEscape", method, err)
			}
			if c.inRoot && !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("%s(esc) = %v, want fs.ErrNotExist (re-rooted)", method, err)
			}
		}
		r.Close()
		for method, call := range calls {
			if err := call("f"); !errors.Is(err, fs.ErrClosed) {
				t.Errorf("closed %s(f) = %v, want fs.ErrClosed", method, err)
			}
		}
	})
}

func opsCloseFile(f fs.File, err error) error {
	if f != nil {
		f.Close()
	}
	return err
}

// TestReadFileClaimedSize: a sparse file an attacker made can claim up to
// 2^63-1 bytes. ReadFile must not allocate from that claim: the largest
// claim panicked (makeslice: cap out of range), and 2^44 asked for 16 TiB
// up front, a fatal out-of-memory. The claim only guides the first
// allocation; the data read is what counts.
func TestReadFileClaimedSize(t *testing.T) {
	dir := testfs.New(t, "f=abc")
	r, err := confine.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for _, claimed := range []int64{0, 3, 1 << 20, 1 << 44, 1<<63 - 1} {
		f, err := r.Open("f")
		if err != nil {
			t.Fatal(err)
		}
		b, err := confine.ReadAllSized(f, "f", claimed)
		f.Close()
		if err != nil || string(b) != "abc" {
			t.Errorf("ReadFile of a file claiming %d bytes = %q, %v, want %q", claimed, b, err, "abc")
		}
	}
}
