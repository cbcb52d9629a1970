//go:build linux && !pathguard_osroot

package confine_test

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/pathguard/pathguard/confine"
	"github.com/pathguard/pathguard/internal/testfs"
)

// One regression test per known attack on path-confinement code, named
// for it. Where the original bug was a race, the test races for real:
// a goroutine exchanges a directory or file with an outward symlink
// (renameat2 RENAME_EXCHANGE) as fast as it can while the operation is
// repeated, for a bounded time per mode and backend. Each test was seen
// to fail against a deliberately broken build (see the commit message).

// cveRaceTime bounds each race, per mode and backend.
const cveRaceTime = 300 * time.Millisecond

// cveRace calls f repeatedly for cveRaceTime while dir/a and dir/b are
// exchanged; f returns false to stop early (a failure was recorded).
func cveRace(t *testing.T, dir, a, b string, f func() bool) {
	t.Helper()
	x := testfs.Exchange(t, filepath.Join(dir, a), filepath.Join(dir, b))
	deadline := time.Now().Add(cveRaceTime)
	calls := 0
	for time.Now().Before(deadline) {
		calls++
		if !f() {
			break
		}
	}
	if swaps := x.Stop(); swaps == 0 {
		t.Errorf("the race never ran: %d calls, no exchange", calls)
	}
}

// CVE-2025-22873: os.Root let "../" (a trailing slash after "..") open
// the root's parent. Every operation given such a name must refuse in
// Beneath mode and stay at the root in InRoot mode; RemoveAll, which
// would empty whatever it reached, must leave the outside alone.
func TestCVE_2025_22873_TrailingSlashDotDot(t *testing.T) {
	names := []string{"../", "..//", "a/../../", "./../", "a/../.././", "../.", "a/../../."}
	opsEach(t, func(t *testing.T, c opsConfig) {
		// These names all denote the root (InRoot) or its parent
		// (Beneath), so no operation here may change what the next one
		// meets: one tree serves them all.
		base := testfs.New(t, "outside/secret=TOPSECRET", "outside/d/", "root/a/f=data")
		out, rootDir := filepath.Join(base, "outside"), filepath.Join(base, "root")
		before := opsWorld(t, out)
		r := opsOpen(t, rootDir, c)
		for _, name := range names {
			for _, op := range opsAttackedOps {
				err := op.do(r, name)
				if !c.inRoot && !errors.Is(err, confine.ErrEscape) && !(op.slash == syscall.EISDIR && errors.Is(err, syscall.EISDIR)) {
					t.Errorf("%s(%q) = %v, want ErrEscape", op.name, name, err)
				}
				if c.inRoot && errors.Is(err, confine.ErrEscape) {
					t.Errorf("%s(%q) = %v in InRoot mode", op.name, name, err)
				}
				opsUnchanged(t, out, before)
				if err := r.RemoveAll(name); err == nil && !c.inRoot {
					t.Errorf("RemoveAll(%q) = nil, want an error", name)
				}
				opsUnchanged(t, out, before)
			}
			if c.inRoot {
				// "../" is the root itself.
				got, err := r.Stat(name)
				want, _ := os.Stat(rootDir)
				if err != nil || !cveSameInode(got, want) {
					t.Errorf("Stat(%q) = %v, %v, want the root itself", name, got, err)
				}
			}
		}
	})
}

// CVE-2026-27139: a FileInfo from ReadDir was looked up by path name
// when Info was called, so a directory replaced by a link in between
// made it describe a file outside. Here the directory is exchanged with
// an outward link, and every Info must describe the inside entry (its
// size tells, and its inode).
func TestCVE_2026_27139_ReadDirInfoRace(t *testing.T) {
	opsEach(t, func(t *testing.T, c opsConfig) {
		base := testfs.New(t, "outside/x=OUTSIDE-SECRET-LONGER", "root/d/x=in", "root/swap => ../outside")
		rootDir := filepath.Join(base, "root")
		r := opsOpen(t, rootDir, c)
		fsys := r.FS()
		readers := map[string]func() ([]fs.DirEntry, error){
			"Root.ReadDir": func() ([]fs.DirEntry, error) { return r.ReadDir("d") },
			"fs.ReadDir":   func() ([]fs.DirEntry, error) { return fs.ReadDir(fsys, "d") },
			"File.ReadDir": func() ([]fs.DirEntry, error) {
				f, err := fsys.Open("d")
				if err != nil {
					return nil, err
				}
				defer f.Close()
				return f.(fs.ReadDirFile).ReadDir(-1)
			},
		}
		check := func(how string, entries []fs.DirEntry) bool {
			for _, e := range entries {
				fi, err := e.Info()
				if err != nil {
					continue
				}
				if e.Name() == "x" && fi.Size() != 2 {
					t.Errorf("%s: Info(x) has size %d: it describes the file outside", how, fi.Size())
					return false
				}
			}
			return true
		}
		// Deterministic: read, then swap, then ask for Info.
		for how, read := range readers {
			entries, err := read()
			if err != nil {
				t.Fatalf("%s: %v", how, err)
			}
			if err := unix.Renameat2(unix.AT_FDCWD, filepath.Join(rootDir, "d"), unix.AT_FDCWD, filepath.Join(rootDir, "swap"), unix.RENAME_EXCHANGE); err != nil {
				t.Skipf("RENAME_EXCHANGE: %v", err)
			}
			check(how+" after swap", entries)
			unix.Renameat2(unix.AT_FDCWD, filepath.Join(rootDir, "d"), unix.AT_FDCWD, filepath.Join(rootDir, "swap"), unix.RENAME_EXCHANGE)
		}
		// Racing.
		cveRace(t, rootDir, "d", "swap", func() bool {
			for how, read := range readers {
				entries, _ := read()
				if !check(how, entries) {
					return false
				}
			}
			return true
		})
	})
}

// CVE-2026-32282: os.Root's Chmod (and Chown, Chtimes) resolved the name
// and then changed it by name, so a file exchanged for a link in between
// had the change made through the link, outside. Here f is exchanged
// with a link to the secret outside while Chmod, Chown and Chtimes run.
func TestCVE_2026_32282_ChmodSwapRace(t *testing.T) {
	opsEach(t, func(t *testing.T, c opsConfig) {
		base := testfs.New(t, "outside/secret=TOPSECRET", "root/f=in", "root/l => ../outside/secret")
		out, rootDir := filepath.Join(base, "outside"), filepath.Join(base, "root")
		before := opsWorld(t, out)
		r := opsOpen(t, rootDir, c)
		i := 0
		cveRace(t, rootDir, "f", "l", func() bool {
			i++
			r.Chmod("f", fs.FileMode(0o700|i&0o7))
			r.Chown("f", 65534, 65534)
			r.Chtimes("f", opsTime, opsTime)
			if i%64 == 0 {
				return !t.Failed() && cmpWorld(t, out, before)
			}
			return true
		})
		opsUnchanged(t, out, before)
	})
}

func cmpWorld(t testing.TB, dir string, before map[string]string) bool {
	after := opsWorld(t, dir)
	if len(after) != len(before) {
		return false
	}
	for k, v := range before {
		if after[k] != v {
			return false
		}
	}
	return true
}

// CVE-2026-39822: "link/" was handed to the kernel as is, and openat
// follows "link/" even with O_NOFOLLOW, so a link leading outside was
// followed by operations that must not follow or must stay inside. Every
// operation given "link/" for an outward link must not touch the outside:
// in Beneath mode the ones that resolve it are ErrEscape, and Remove and
// Rename are ENOTDIR (they act on the entry, which is not a directory).
func TestCVE_2026_39822_LinkTrailingSlash(t *testing.T) {
	names := []string{"esc/", "esc//", "a/up/", "sub/../esc/"}
	opsEach(t, func(t *testing.T, c opsConfig) {
		base := testfs.New(t, "outside/secret=TOPSECRET", "outside/empty/", "root/a/f=data", "root/sub/",
			"root/esc => ../outside/empty", "root/a/up => ../../outside/empty")
		out, rootDir := filepath.Join(base, "outside"), filepath.Join(base, "root")
		before := opsWorld(t, out)
		r := opsOpen(t, rootDir, c)
		for _, name := range names {
			calls := map[string]error{
				"Lstat":    func() error { _, err := r.Lstat(name); return err }(),
				"Readlink": func() error { _, err := r.Readlink(name); return err }(),
				"Lchown":   r.Lchown(name, 65534, 65534),
				"Chown":    r.Chown(name, 65534, 65534),
				"Chmod":    r.Chmod(name, 0o700),
				"Chtimes":  r.Chtimes(name, opsTime, opsTime),
				"ReadDir":  func() error { _, err := r.ReadDir(name); return err }(),
				"Open":     opsClose(r.OpenFile(name, os.O_RDONLY|syscall.O_NOFOLLOW, 0)),
				"Link":     r.Link(name, "a/hard"),
				"Mkdir":    r.Mkdir(name+"x", 0o700),
				"Remove":   r.Remove(name),
				"Rename":   r.Rename(name, "a/moved"),
			}
			for method, err := range calls {
				want := confine.ErrEscape
				switch method {
				case "Remove", "Rename":
					want = syscall.ENOTDIR
				}
				if c.inRoot {
					if errors.Is(err, confine.ErrEscape) {
						t.Errorf("%s(%q) = %v in InRoot mode", method, name, err)
					}
				} else if want != nil && !errors.Is(err, want) {
					t.Errorf("%s(%q) = %v, want %v", method, name, err, want)
				}
			}
			opsUnchanged(t, out, before)
			if fi, err := os.Lstat(filepath.Join(rootDir, "esc")); err != nil || fi.Mode().Type() != fs.ModeSymlink {
				t.Fatalf("after %q: root/esc = %v, %v: the link itself must stay", name, fi, err)
			}
		}
	})
}

// CVE-2018-15664 (docker cp): the path was resolved inside the container
// and then used by name, so a directory exchanged with a link to the
// host in between made the copy read or write on the host. Here d (a
// directory) is exchanged with a link to outside while files are read
// and written through the Root.
func TestCVE_2018_15664_DockerCpSwap(t *testing.T) {
	opsEach(t, func(t *testing.T, c opsConfig) {
		base := testfs.New(t, "outside/f=TOPSECRET", "root/d/f=in", "root/outside/f=DECOY",
			"root/sw => ../outside")
		out, rootDir := filepath.Join(base, "outside"), filepath.Join(base, "root")
		before := opsWorld(t, out)
		r := opsOpen(t, rootDir, c)
		cveRace(t, rootDir, "d", "sw", func() bool {
			if b, err := r.ReadFile("d/f"); err == nil && bytes.Contains(b, []byte("TOPSECRET")) {
				t.Errorf("ReadFile(d/f) read the secret outside")
				return false
			}
			r.WriteFile("d/f", []byte("in"), 0o644)
			r.WriteFile("d/new", []byte("copied"), 0o644)
			r.Remove("d/new")
			return true
		})
		opsUnchanged(t, out, before)
	})
}

// CVE-2021-25741 (kubelet subPath): the subPath was checked, then
// bind-mounted by name, and an exchange in between mounted the host.
// Here a sub-root is opened while sub is exchanged with a link outward:
// the sub-root holds the directory it resolved, so whatever it reads or
// writes is inside.
func TestCVE_2021_25741_SubPathExchange(t *testing.T) {
	opsEach(t, func(t *testing.T, c opsConfig) {
		base := testfs.New(t, "outside/f=TOPSECRET", "root/sub/f=in", "root/outside/f=DECOY",
			"root/sublink => ../outside")
		out, rootDir := filepath.Join(base, "outside"), filepath.Join(base, "root")
		before := opsWorld(t, out)
		r := opsOpen(t, rootDir, c)
		cveRace(t, rootDir, "sub", "sublink", func() bool {
			sr, err := r.OpenRoot("sub")
			if err != nil {
				return true
			}
			defer sr.Close()
			if b, err := sr.ReadFile("f"); err == nil && bytes.Contains(b, []byte("TOPSECRET")) {
				t.Errorf("sub-root ReadFile(f) read the secret outside")
				return false
			}
			sr.WriteFile("w", []byte("x"), 0o600)
			sr.Chmod("f", 0o600)
			sr.Remove("w")
			return true
		})
		opsUnchanged(t, out, before)
	})
}

// CVE-2024-21626 (runc): a leaked directory fd let a container use
// /proc/self/fd/N as its working directory, which is the host. A Root
// never follows such a path: a link to /proc/self/fd/N inside the root
// is an escape (Beneath) or re-rooted (InRoot), a Root on /proc refuses
// the magic link fd/N (ELOOP) for every operation, and the fds a Root
// holds or hands out are close-on-exec, so none leaks into a child.
func TestCVE_2024_21626_ProcSelfFd(t *testing.T) {
	base := testfs.New(t, "outside/secret=TOPSECRET", "outside/d/", "root/a/")
	out := filepath.Join(base, "outside")
	leaked, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer leaked.Close()
	n := strconv.Itoa(int(leaked.Fd()))
	if err := os.Symlink("/proc/self/fd/"+n, filepath.Join(base, "root/fdlink")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/proc/self/fd/"+n+"/secret", filepath.Join(base, "root/fdfile")); err != nil {
		t.Fatal(err)
	}
	before := opsWorld(t, out)
	opsEach(t, func(t *testing.T, c opsConfig) {
		r := opsOpen(t, filepath.Join(base, "root"), c)
		for _, name := range []string{"fdlink/secret", "fdfile", "fdlink/d/x", "/proc/self/fd/" + n + "/secret"} {
			for _, op := range opsAttackedOps {
				if !op.follows {
					continue // acting on the link itself, inside, is fine
				}
				// InRoot: the name is re-rooted and may even succeed
				// inside (MkdirAll makes root/proc/...): only the
				// outside tree and the secret are checked.
				err := op.do(r, name)
				if !c.inRoot && !errors.Is(err, confine.ErrEscape) {
					t.Errorf("%s(%q) = %v, want ErrEscape", op.name, name, err)
				}
			}
			if b, err := r.ReadFile(name); bytes.Contains(b, []byte("TOPSECRET")) {
				t.Errorf("ReadFile(%q) = %q, %v", name, b, err)
			}
		}
		opsUnchanged(t, out, before)

		// A Root on /proc itself: fd/N is a magic link, refused.
		pr, err := confine.OpenRoot("/proc", c.opts()...)
		if err != nil {
			t.Skipf("OpenRoot(/proc): %v", err)
		}
		defer pr.Close()
		// Only names that lead to the test's own outside tree: a broken
		// build must not be able to change anything else.
		for _, name := range []string{"self/fd/" + n, "self/fd/" + n + "/secret", "thread-self/fd/" + n + "/secret", "self/fd/" + n + "/d"} {
			for _, op := range opsAttackedOps {
				if !op.follows {
					continue
				}
				if err := op.do(pr, name); !errors.Is(err, syscall.ELOOP) {
					t.Errorf("/proc Root: %s(%q) = %v, want ELOOP", op.name, name, err)
				}
			}
		}
		opsUnchanged(t, out, before)

		// Nothing a Root holds or returns survives exec.
		f, err := r.Open("a")
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		for what, fd := range map[string]int{"Root": confine.RootFD(r), "Open": int(f.Fd())} {
			flags, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0)
			if err != nil || flags&unix.FD_CLOEXEC == 0 {
				t.Errorf("%s fd %d flags %#x, %v: not close-on-exec", what, fd, flags, err)
			}
		}
	})
}

// GHSA-rhq6-9rgh-v45c: chmod through a symlink changed a file outside.
// Chmod follows a final link only inside: the outward links here are
// ErrEscape (Beneath) or re-rooted onto the decoy (InRoot), and the mode
// of the secret never moves.
func TestGHSA_rhq6_9rgh_v45c_ChmodThroughLink(t *testing.T) {
	opsEach(t, func(t *testing.T, c opsConfig) {
		base := testfs.New(t, "outside/secret=TOPSECRET", "root/outside/secret=DECOY", "root/in=x",
			"root/l => ../outside/secret", "root/a/l => ../../outside/secret", "root/ok => in", "root/chain => l")
		out, rootDir := filepath.Join(base, "outside"), filepath.Join(base, "root")
		if err := os.Symlink(filepath.Join(out, "secret"), filepath.Join(rootDir, "abs")); err != nil {
			t.Fatal(err)
		}
		before := opsWorld(t, out)
		r := opsOpen(t, rootDir, c)
		for _, name := range []string{"l", "a/l", "abs", "chain"} {
			for _, mode := range []fs.FileMode{0o777, 0o000, 0o600} {
				err := r.Chmod(name, mode)
				if !c.inRoot && !errors.Is(err, confine.ErrEscape) {
					t.Errorf("Chmod(%q, %v) = %v, want ErrEscape", name, mode, err)
				}
			}
		}
		opsUnchanged(t, out, before)
		// An inside link is followed, and only its target changes.
		if err := r.Chmod("ok", 0o640); err != nil {
			t.Fatalf("Chmod(ok) = %v", err)
		}
		fi, _ := os.Stat(filepath.Join(rootDir, "in"))
		if fi.Mode().Perm() != 0o640 {
			t.Errorf("Chmod(ok): in has mode %v, want 0640", fi.Mode())
		}
	})
}

// cveSameInode compares two FileInfos by device and inode (os.SameFile
// knows only its own FileInfo type).
func cveSameInode(a, b fs.FileInfo) bool {
	sa, ok1 := a.Sys().(*syscall.Stat_t)
	sb, ok2 := b.Sys().(*syscall.Stat_t)
	return ok1 && ok2 && sa.Dev == sb.Dev && sa.Ino == sb.Ino
}
