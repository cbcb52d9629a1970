// Package testfs builds directory trees for tests from a tiny language,
// the way os.Root's own tests do:
//
//	"a/"            a directory
//	"a/f"           an empty regular file
//	"a/f=hello"     a regular file holding "hello"
//	"l => ../f"     a symlink l whose target is "../f"
//
// Parents are created as needed. Entries are made in the order given.
package testfs

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Make builds the tree described by entries under dir, failing the test on
// any error.
func Make(t testing.TB, dir string, entries ...string) {
	t.Helper()
	for _, e := range entries {
		if err := MakeEntry(dir, e); err != nil {
			t.Fatalf("testfs: %q: %v", e, err)
		}
	}
}

// New builds the tree in a fresh t.TempDir and returns its path.
func New(t testing.TB, entries ...string) string {
	t.Helper()
	dir := t.TempDir()
	Make(t, dir, entries...)
	return dir
}

// MakeEntry creates one entry of the tree language under dir, with the
// parents it needs, and returns the error rather than failing a test (for
// fuzz targets, whose generated entries may not fit the tree).
func MakeEntry(dir, e string) error {
	if name, target, ok := strings.Cut(e, " => "); ok {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		return os.Symlink(target, p)
	}
	if strings.HasSuffix(e, "/") {
		return os.MkdirAll(filepath.Join(dir, e), 0o755)
	}
	name, data, _ := strings.Cut(e, "=")
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	return os.WriteFile(p, []byte(data), 0o644)
}

// Snapshot describes every entry under dir (path, type, mode, size,
// content of files, target of links), so a test can assert that nothing
// in a tree changed, byte for byte and mode for mode.
func Snapshot(t testing.TB, dir string) map[string]string {
	t.Helper()
	m, err := describe(dir, nil)
	if err != nil {
		t.Fatalf("testfs: snapshot %s: %v", dir, err)
	}
	return m
}

// describe maps every entry under dir (dir itself as ".") to its type
// and mode, the content of a file or the target of a link, and what more
// says of it.
func describe(dir string, more func(fi os.FileInfo) string) (map[string]string, error) {
	m := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		desc := fi.Mode().String()
		switch {
		case fi.Mode()&os.ModeSymlink != 0:
			tgt, err := os.Readlink(p)
			if err != nil {
				return err
			}
			desc += " -> " + tgt
		case fi.Mode().IsRegular():
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			desc += " " + string(b)
		}
		if more != nil {
			desc += more(fi)
		}
		m[rel] = desc
		return nil
	})
	return m, err
}

// retryFor bounds Retry: long enough to outlast any other test binary's
// rename storm on a busy machine, short enough to fail a real bug quickly.
const retryFor = 10 * time.Second

// Retry calls fn until it returns an error that matches neither EAGAIN
// nor EINTR, for at most 10 s, and returns fn's last error. openat2
// refuses a ".." with EAGAIN whenever anything on the system renamed
// during the lookup (other packages' race tests rename thousands of times
// a second), and pathguard documents that answer as retryable; a test
// compares the answer once the system is quieter, for the library and for
// the kernel's own reference call alike.
func Retry(fn func() error) error {
	deadline := time.Now().Add(retryFor)
	for {
		err := fn()
		if !errors.Is(err, syscall.EAGAIN) && !errors.Is(err, syscall.EINTR) || time.Now().After(deadline) {
			return err
		}
		time.Sleep(time.Millisecond)
	}
}
