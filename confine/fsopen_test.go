//go:build linux && !pathguard_osroot

package confine_test

import (
	"errors"
	"io/fs"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/pathguard/pathguard/confine"
	"github.com/pathguard/pathguard/internal/testfs"
)

// What a client sends through http.FileServerFS(root.FS()) never makes
// the server answer 500: an escape or a refused link is 403 or 404, a
// name that cannot exist (NUL, too long, under a file) is 400 or 404.
func TestFSHTTPStatus(t *testing.T) {
	opsEach(t, func(t *testing.T, c opsConfig) {
		base := testfs.New(t, "outside/secret=TOPSECRET", "root/f=public", "root/d/g=public",
			"root/esc => ../outside/secret", "root/escd => ../outside",
			"root/loop => loop", "root/self => /proc/self/root")
		rootDir := filepath.Join(base, "root")
		testfs.Make(t, base, "root/abs => "+filepath.Join(base, "outside/secret"))
		must(t, unix.Mkfifo(filepath.Join(rootDir, "fifo"), 0o644))
		r, err := confine.OpenRoot(rootDir, append(c.opts(), confine.NoSpecialFiles())...)
		must(t, err)
		defer r.Close()
		srv := httptest.NewServer(http.FileServerFS(r.FS()))
		defer srv.Close()
		client := &http.Client{Timeout: 10 * time.Second}
		get := func(raw string) int {
			t.Helper()
			req, err := http.NewRequest("GET", srv.URL+"/", nil)
			must(t, err)
			req.URL.Opaque = raw
			resp, err := client.Do(req)
			if err != nil {
				t.Fatalf("GET %.80s: %v", raw, err)
			}
			resp.Body.Close()
			return resp.StatusCode
		}
		if code := get("/f"); code != 200 {
			t.Fatalf("GET /f = %d, want 200", code)
		}
		for _, raw := range []string{
			"/esc", "/escd/secret", "/escd/", "/abs", "/loop", "/self/etc/passwd",
			"/fifo",
			"/a%00b", "/d/%00", "/" + strings.Repeat("x", 5000), "/" + strings.Repeat("d/", 2100) + "g",
			"/" + strings.Repeat("y", 256), "/f/x",
		} {
			code := get(raw)
			if code != 400 && code != 403 && code != 404 {
				t.Errorf("GET %.60s = %d, want 400, 403 or 404", raw, code)
			}
		}
		// The same errors through io/fs: the Root's sentinel and the
		// io/fs error a generic caller maps.
		fsys := r.FS()
		for name, want := range map[string][]error{
			"a\x00b":                 {confine.ErrInvalid, fs.ErrNotExist},
			strings.Repeat("x", 300): {confine.ErrInvalid, fs.ErrNotExist},
			"f/x":                    {syscall.ENOTDIR, fs.ErrNotExist},
			"loop":                   {syscall.ELOOP, fs.ErrPermission},
			"fifo":                   {confine.ErrSpecialFile, fs.ErrPermission},
			"..":                     {fs.ErrInvalid, fs.ErrNotExist},
		} {
			_, err := fsys.Open(name)
			for _, w := range want {
				if !errors.Is(err, w) {
					t.Errorf("FS.Open(%.40q) = %v, want it to match %v", name, err, w)
				}
			}
		}
		if !c.inRoot {
			for _, name := range []string{"esc", "escd/secret", "abs"} {
				_, err := fsys.Open(name)
				if !errors.Is(err, confine.ErrEscape) || !errors.Is(err, fs.ErrPermission) {
					t.Errorf("FS.Open(%q) = %v, want ErrEscape and fs.ErrPermission", name, err)
				}
			}
		}
	})
}

// Under NoSpecialFiles, a FIFO, a socket or a device is refused with
// ErrSpecialFile by every open, at once (an opened FIFO would block),
// also through a link; regular files and directories open as usual.
func TestNoSpecialFiles(t *testing.T) {
	opsEach(t, func(t *testing.T, c opsConfig) {
		dir := testfs.New(t, "f=data", "d/g=more", "lfifo => fifo", "dangling => new2")
		must(t, unix.Mkfifo(filepath.Join(dir, "fifo"), 0o666))
		ln, err := net.Listen("unix", filepath.Join(dir, "sock"))
		must(t, err)
		defer ln.Close()
		specials := []string{"fifo", "lfifo", "sock"}
		if os.Geteuid() == 0 {
			// /dev/null's numbers: opening it has no effect, but it is a
			// device all the same.
			if err := unix.Mknod(filepath.Join(dir, "null"), unix.S_IFCHR|0o666, int(unix.Mkdev(1, 3))); err == nil {
				specials = append(specials, "null")
			}
		}
		r, err := confine.OpenRoot(dir, append(c.opts(), confine.NoSpecialFiles())...)
		must(t, err)
		defer r.Close()
		done := make(chan struct{})
		go func() {
			defer close(done)
			for _, name := range specials {
				for _, flag := range []int{os.O_RDONLY, os.O_WRONLY, os.O_RDWR, os.O_WRONLY | os.O_CREATE | os.O_TRUNC, os.O_RDONLY | syscall.O_NONBLOCK} {
					f, err := r.OpenFile(name, flag, 0o644)
					if err == nil {
						f.Close()
					}
					if !errors.Is(err, confine.ErrSpecialFile) || !errors.Is(err, fs.ErrPermission) {
						t.Errorf("OpenFile(%s, %#x) = %v, want ErrSpecialFile", name, flag, err)
					}
				}
				if _, err := r.ReadFile(name); !errors.Is(err, confine.ErrSpecialFile) {
					t.Errorf("ReadFile(%s) = %v, want ErrSpecialFile", name, err)
				}
			}
		}()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			// Let each blocked open go (O_RDWR is both ends of the
			// FIFO), so the goroutine ends.
			for unblocked := false; !unblocked; {
				if f, err := os.OpenFile(filepath.Join(dir, "fifo"), os.O_RDWR, 0); err == nil {
					f.Close()
				}
				select {
				case <-done:
					unblocked = true
				case <-time.After(10 * time.Millisecond):
				}
			}
			t.Fatal("an open blocked on the FIFO: it was opened")
		}
		// Regular files and directories, as without the option.
		if b, err := r.ReadFile("f"); err != nil || string(b) != "data" {
			t.Errorf("ReadFile(f) = %q, %v", b, err)
		}
		if ents, err := r.ReadDir("d"); err != nil || len(ents) != 1 {
			t.Errorf("ReadDir(d) = %v, %v", ents, err)
		}
		f, err := r.Open("d")
		if err != nil {
			t.Fatalf("Open(d) = %v", err)
		}
		if names, err := f.Readdirnames(-1); err != nil || len(names) != 1 {
			t.Errorf("Open(d).Readdirnames = %v, %v", names, err)
		}
		f.Close()
		must(t, r.WriteFile("f", []byte("new"), 0o644))
		must(t, r.WriteFile("new", []byte("made"), 0o600))
		if b, err := os.ReadFile(filepath.Join(dir, "f")); err != nil || string(b) != "new" {
			t.Errorf("after WriteFile(f): %q, %v, want new (truncated and written)", b, err)
		}
		if fi, err := os.Stat(filepath.Join(dir, "new")); err != nil || fi.Mode().Perm() != 0o600&^umask() {
			t.Errorf("WriteFile(new) made %v, %v", fi, err)
		}
		if _, err := r.OpenFile("new", os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644); !errors.Is(err, fs.ErrExist) {
			t.Errorf("OpenFile(new, O_EXCL) = %v, want fs.ErrExist", err)
		}
		if _, err := r.OpenFile("dangling", os.O_WRONLY|os.O_CREATE, 0o644); !errors.Is(err, fs.ErrExist) {
			t.Errorf("OpenFile(dangling, O_CREATE) = %v, want fs.ErrExist", err)
		}
		if _, err := os.Lstat(filepath.Join(dir, "new2")); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("O_CREATE through a dangling link created its target: %v", err)
		}
		if _, err := r.OpenFile("f", os.O_RDONLY|os.O_CREATE, 0o644); err != nil {
			t.Errorf("OpenFile(f, O_CREATE) of an existing file = %v", err)
		}
	})
}

func umask() fs.FileMode {
	m := unix.Umask(0)
	unix.Umask(m)
	return fs.FileMode(m)
}

// A FIFO and a regular file are exchanged while opens run: each open
// gets the regular file or ErrSpecialFile, and none blocks. It runs to a
// count of both outcomes.
func TestNoSpecialFilesRace(t *testing.T) {
	opsEach(t, func(t *testing.T, c opsConfig) {
		dir := testfs.New(t, "f=data")
		must(t, unix.Mkfifo(filepath.Join(dir, "fifo"), 0o666))
		r, err := confine.OpenRoot(dir, append(c.opts(), confine.NoSpecialFiles())...)
		must(t, err)
		defer r.Close()
		var stop atomic.Bool
		var wg sync.WaitGroup
		defer wg.Wait()
		defer stop.Store(true)
		testfs.Exchange(t, filepath.Join(dir, "f"), filepath.Join(dir, "fifo"))
		// A writer that unblocks a FIFO opened for reading by mistake, so
		// a failure shows as a wrong answer rather than a hang.
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				if f, err := os.OpenFile(filepath.Join(dir, "fifo"), os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
					f.Close()
				}
				if f, err := os.OpenFile(filepath.Join(dir, "f"), os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
					f.Close()
				}
			}
		}()
		var regular, refused int
		deadline := time.Now().Add(60 * time.Second)
		for (regular < 200 || refused < 200) && time.Now().Before(deadline) {
			f, err := r.Open("f")
			switch {
			case err == nil:
				fi, serr := f.Stat()
				f.Close()
				if serr != nil || !fi.Mode().IsRegular() {
					t.Fatalf("Open(f) during the exchange opened %v, %v", fi, serr)
				}
				regular++
			case errors.Is(err, confine.ErrSpecialFile):
				refused++
			case errors.Is(err, fs.ErrNotExist):
			default:
				t.Fatalf("Open(f) during the exchange = %v", err)
			}
		}
		if regular < 200 || refused < 200 {
			t.Errorf("race not exercised: %d regular, %d refused", regular, refused)
		}
	})
}

// open(2) with O_NOFOLLOW refuses a final link with ELOOP; through a Root
// that refusal matches ErrSymlink too, with or without NoSpecialFiles,
// while 40 links in a row stay plain ELOOP.
func TestOpenNoFollowSymlink(t *testing.T) {
	opsEach(t, func(t *testing.T, c opsConfig) {
		dir := testfs.New(t, "f=data", "l => f", "d/", "ld => d", "loop => loop")
		for _, special := range []bool{false, true} {
			opts := c.opts()
			if special {
				opts = append(opts, confine.NoSpecialFiles())
			}
			r, err := confine.OpenRoot(dir, opts...)
			must(t, err)
			for _, name := range []string{"l", "ld"} {
				_, err := r.OpenFile(name, os.O_RDONLY|syscall.O_NOFOLLOW, 0)
				if !errors.Is(err, confine.ErrSymlink) || !errors.Is(err, syscall.ELOOP) {
					t.Errorf("NoSpecialFiles=%v: OpenFile(%s, O_NOFOLLOW) = %v, want ErrSymlink (and ELOOP)", special, name, err)
				}
			}
			if _, err := r.OpenFile("loop", os.O_RDONLY, 0); !errors.Is(err, syscall.ELOOP) || errors.Is(err, confine.ErrSymlink) {
				t.Errorf("NoSpecialFiles=%v: OpenFile(loop) = %v, want ELOOP, not ErrSymlink", special, err)
			}
			f, err := r.OpenFile("f", os.O_RDONLY|syscall.O_NOFOLLOW, 0)
			if err != nil {
				t.Errorf("NoSpecialFiles=%v: OpenFile(f, O_NOFOLLOW) = %v", special, err)
			} else {
				f.Close()
			}
			r.Close()
		}
	})
}
