//go:build unix

package fuzz

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// tempPrefix starts the name of every directory tempDir makes, followed
// by the pid of the process that made it.
const tempPrefix = "pathguard-fuzz-"

// tempDir returns a new directory for a fuzz target's trees, removed when
// the target ends. go test stops its fuzzing workers without running
// their cleanups, so each -fuzz run used to leave a t.TempDir behind in
// the system's temporary directory: the directories of processes that
// are gone are removed first.
func tempDir(tb testing.TB) string {
	ents, _ := os.ReadDir(os.TempDir())
	for _, e := range ents {
		rest, ok := strings.CutPrefix(e.Name(), tempPrefix)
		pid, _, ok2 := strings.Cut(rest, "-")
		n, err := strconv.Atoi(pid)
		if ok && ok2 && err == nil && n > 0 && n != os.Getpid() && errors.Is(syscall.Kill(n, 0), syscall.ESRCH) {
			removeTree(filepath.Join(os.TempDir(), e.Name()))
		}
	}
	d, err := os.MkdirTemp("", tempPrefix+strconv.Itoa(os.Getpid())+"-")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { removeTree(d) })
	return d
}

// removeTree removes dir and everything in it, making each directory
// writable first (the trees hold read-only directories).
func removeTree(dir string) {
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if d != nil && d.IsDir() {
			os.Chmod(p, 0o700)
		}
		return nil
	})
	os.RemoveAll(dir)
}
