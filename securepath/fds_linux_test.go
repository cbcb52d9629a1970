package securepath

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pathguard/pathguard/confine"
	"github.com/pathguard/pathguard/internal/testfs"
)

// TestErrorPathsLeakNoFDs calls Check, OpenDir, Open and WriteFile 100
// times on each of their error paths (a missing entry, a file where a
// directory is needed, a link loop, an escape by "..", too many links, a
// magic link, an insecure directory, a name that is refused) and counts
// the process's fds before and after: not one may be left open.
func TestErrorPathsLeakNoFDs(t *testing.T) {
	dir := openTempDir(t)
	testfs.Make(t, dir, "d/sub/f=F", "d/loop1 => loop2", "d/loop2 => loop1", "d/up => ../../..", "d/sub/deep/")
	insecure := filepath.Join(dir, "open")
	testfs.Make(t, dir, "open/")
	chmod(t, insecure, 0o777)
	d := filepath.Join(dir, "d")
	root, err := confine.OpenRoot(d)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	calls := map[string]func() error{
		"Check(missing)":        func() error { _, err := Check(filepath.Join(d, "sub/nope/x"), nil); return err },
		"Check(file/)":          func() error { _, err := Check(filepath.Join(d, "sub/f/x"), nil); return err },
		"Check(loop)":           func() error { _, err := Check(filepath.Join(d, "loop1"), nil); return err },
		"Check(magic)":          func() error { _, err := Check("/proc/self/root/tmp", nil); return err },
		"Check(dotdot)":         func() error { _, err := Check(filepath.Join(d, "sub/deep/../../../nope"), nil); return err },
		"OpenDir(missing)":      func() error { r, err := OpenDir(filepath.Join(d, "nope"), nil); closeRoot(r); return err },
		"OpenDir(insecure)":     func() error { r, err := OpenDir(insecure, nil); closeRoot(r); return err },
		"OpenDir(loop)":         func() error { r, err := OpenDir(filepath.Join(d, "loop1"), nil); closeRoot(r); return err },
		"Open(escape)":          func() error { f, err := Open(d, "sub/deep/../../../x", nil); closeFile(f); return err },
		"Open(escape link)":     func() error { f, err := Open(d, "up/x", nil); closeFile(f); return err },
		"Open(missing)":         func() error { f, err := Open(d, "sub/deep/nope", nil); closeFile(f); return err },
		"Open(loop)":            func() error { f, err := Open(d, "loop1", nil); closeFile(f); return err },
		"Open(file/)":           func() error { f, err := Open(d, "sub/f/x", nil); closeFile(f); return err },
		"Open(insecure dir)":    func() error { f, err := Open(insecure, "x", nil); closeFile(f); return err },
		"Open(long)":            func() error { f, err := Open(d, strings.Repeat("x", 300), nil); closeFile(f); return err },
		"WriteFile(escape)":     func() error { return WriteFile(root, "../x", []byte("s"), 0o600, CreateOnly) },
		"WriteFile(missing)":    func() error { return WriteFile(root, "nope/x", []byte("s"), 0o600, CreateOnly) },
		"WriteFile(exists)":     func() error { return WriteFile(root, "sub/f", []byte("s"), 0o600, CreateOnly) },
		"WriteFile(loop)":       func() error { return WriteFile(root, "loop1", []byte("s"), 0o600, Replace) },
		"WriteFile(dir target)": func() error { return WriteFile(root, "sub", []byte("s"), 0o600, Replace) },
	}
	for name, call := range calls {
		if call() == nil {
			t.Errorf("%s succeeded, want an error", name)
			continue
		}
		before := testfs.OpenFDs(t)
		for range 100 {
			call()
		}
		if after := testfs.OpenFDs(t); after != before {
			t.Errorf("%s: %d fds open after 100 failing calls, %d before", name, after, before)
		}
	}
}

func closeRoot(r *confine.Root) {
	if r != nil {
		r.Close()
	}
}

func closeFile(f *os.File) {
	if f != nil {
		f.Close()
	}
}
