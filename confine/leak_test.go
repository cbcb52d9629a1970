//go:build linux && !pathguard_osroot

package confine_test

import (
	"os"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/pathguard/pathguard/confine"
	"github.com/pathguard/pathguard/internal/testfs"
)

// TestNoFDLeak runs thousands of succeeding and failing calls (opens,
// stats, resolves, sub-roots) under every mode and backend, and counts the
// process's open descriptors before and after: every error path must
// release what it opened.
func TestNoFDLeak(t *testing.T) {
	dir := testfs.New(t, "secret=OUTSIDE", "root/f=F", "root/a/b/c/g=G",
		"root/l => a/b", "root/esc => ../secret", "root/loop => loop",
		"root/dang => nothere/x", "root/mid => f/x", "root/abs => /a")
	root := dir + "/root"
	// Deep enough to push the walk past its held-fd bound and back.
	deep := strings.Repeat("d/", 300)
	testfs.Make(t, root, deep+"h=H")

	type call struct {
		name string
		do   func(r *confine.Root) error
	}
	open := func(name string, flag int) call {
		return call{"OpenFile(" + name + ")", func(r *confine.Root) error {
			f, err := r.OpenFile(name, flag, 0o644)
			if err == nil {
				f.Close()
			}
			return err
		}}
	}
	calls := []call{
		open("f", os.O_RDONLY),
		open("a/b/c/g", os.O_RDONLY),
		open("l/c/g", os.O_RDONLY),
		open("l/", os.O_RDONLY),
		open("esc", os.O_RDONLY),
		open("loop", os.O_RDONLY),
		open("dang", os.O_RDONLY),
		open("dang", os.O_RDWR|os.O_CREATE),
		open("mid", os.O_RDONLY),
		open("abs", os.O_RDONLY),
		open("../x", os.O_RDONLY),
		open("f/", os.O_RDONLY),
		open("f", os.O_RDONLY|os.O_CREATE|os.O_EXCL),
		open("new", os.O_RDWR|os.O_CREATE),
		open("a/b", os.O_RDWR),
		open(deep+"h", os.O_RDONLY),
		open(deep+strings.Repeat("../", 300)+"f", os.O_RDONLY),
		open(deep+strings.Repeat("../", 301)+"f", os.O_RDONLY),
		open("", os.O_RDONLY),
		{"Stat", func(r *confine.Root) error { _, err := r.Stat("l/c"); return err }},
		{"Stat escape", func(r *confine.Root) error { _, err := r.Stat("esc"); return err }},
		{"Lstat", func(r *confine.Root) error { _, err := r.Lstat("esc"); return err }},
		{"Lstat missing", func(r *confine.Root) error { _, err := r.Lstat("a/nothere"); return err }},
		{"Resolve", func(r *confine.Root) error { _, err := r.Resolve("l/../b/c/g"); return err }},
		{"Resolve deep", func(r *confine.Root) error { _, err := r.Resolve(deep + strings.Repeat("../", 299)); return err }},
		{"Resolve escape", func(r *confine.Root) error { _, err := r.Resolve("esc"); return err }},
		{"Resolve loop", func(r *confine.Root) error { _, err := r.Resolve("loop"); return err }},
		{"ReadDir", func(r *confine.Root) error { _, err := r.ReadDir("a"); return err }},
		{"ReadDir file", func(r *confine.Root) error { _, err := r.ReadDir("f"); return err }},
		{"OpenRoot", func(r *confine.Root) error {
			c, err := r.OpenRoot("l")
			if err != nil {
				return err
			}
			f, err := c.Open("c/g")
			if err == nil {
				f.Close()
			}
			return c.Close()
		}},
		{"OpenRoot file", func(r *confine.Root) error { _, err := r.OpenRoot("f"); return err }},
		{"OpenRoot escape", func(r *confine.Root) error { _, err := r.OpenRoot("esc"); return err }},
	}

	forEachBackendMode(t, backends, func(t *testing.T, m mode, b backend) {
		r, err := confine.OpenRoot(root, openOpts(m, b)...)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		// One warm-up round, so that whatever the runtime or the engine
		// opens once and keeps (the protected_symlinks read, poller fds)
		// is not counted.
		for _, c := range calls {
			c.do(r)
		}
		before := testfs.OpenFDs(t)
		var ok, failed int
		for range 40 {
			for _, c := range calls {
				if c.do(r) == nil {
					ok++
				} else {
					failed++
				}
			}
		}
		if after := testfs.OpenFDs(t); after != before {
			t.Fatalf("%d calls (%d succeeded, %d failed) left %d descriptors open, want 0", ok+failed, ok, failed, after-before)
		}
		if ok == 0 || failed == 0 {
			t.Fatalf("%d calls succeeded and %d failed, want both kinds", ok, failed)
		}
	})

	// Roots themselves: OpenRoot and Close, on success and failure.
	t.Run("OpenRoot", func(t *testing.T) {
		before := testfs.OpenFDs(t)
		for range 500 {
			for _, b := range backends {
				r, err := confine.OpenRoot(root, b.opt)
				if err != nil {
					t.Fatal(err)
				}
				r.Close()
				if _, err := confine.OpenRoot(root+"/f", b.opt); err == nil {
					t.Fatal("OpenRoot of a file succeeded")
				}
			}
		}
		if after := testfs.OpenFDs(t); after != before {
			t.Fatalf("OpenRoot and Close left %d descriptors open, want 0", after-before)
		}
	})
}

// TestCloseOnExec checks that the descriptors a Root holds and hands out
// are close-on-exec, so a child process never inherits a way into the tree.
func TestCloseOnExec(t *testing.T) {
	root := testfs.New(t, "f=F", "d/")
	forEachBackendMode(t, backends, func(t *testing.T, m mode, b backend) {
		r, err := confine.OpenRoot(root, openOpts(m, b)...)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		sub, err := r.OpenRoot("d")
		if err != nil {
			t.Fatal(err)
		}
		defer sub.Close()
		fds := map[string]int{"root": confine.RootFD(r), "sub-root": confine.RootFD(sub)}
		for _, name := range []string{"f", "d", "."} {
			f, err := r.Open(name)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			fds["Open("+name+")"] = int(f.Fd())
		}
		f, err := r.OpenFile("new", os.O_RDWR|os.O_CREATE, 0o600)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		fds["OpenFile(new, O_CREATE)"] = int(f.Fd())
		for what, fd := range fds {
			fl, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
			if err != nil {
				t.Fatalf("%s: fcntl: %v", what, err)
			}
			if fl&unix.FD_CLOEXEC == 0 {
				t.Errorf("%s: descriptor %d is not close-on-exec", what, fd)
			}
		}
	})
}
