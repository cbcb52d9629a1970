//go:build linux

package confine_test

import (
	"errors"
	"io"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/pathguard/pathguard/confine"
	"github.com/pathguard/pathguard/internal/testfs"
)

// raceDuration bounds each racing subtest.
const raceDuration = 250 * time.Millisecond

// TestRaceExchange races openers against goroutines that keep exchanging,
// with renameat2(RENAME_EXCHANGE), a directory (or file) inside the root
// and a symlink that leads out of it. Whatever the interleaving, an open
// either fails or returns the inside entry: never the secret outside.
//
// Two swaps: "d" (a directory holding f) against a link to the outside
// directory holding a file f of its own, so the swap lands in the middle
// of the path; and "x" (a file) against a link to the outside file, so it
// lands on the final component, which the walk reopens by name.
func TestRaceExchange(t *testing.T) {
	swaps := []struct {
		name   string
		open   string
		inner  string // swapped with link
		link   string
		target string // link's text; "$OUT" is the outside directory
	}{
		{name: "middle-relative", open: "d/f", inner: "d", link: "l", target: "../out"},
		{name: "middle-absolute", open: "d/f", inner: "d", link: "l", target: "$OUT"},
		{name: "final-relative", open: "x", inner: "x", link: "lx", target: "../out/f"},
		{name: "final-absolute", open: "x", inner: "x", link: "lx", target: "$OUT/f"},
	}
	for _, sw := range swaps {
		t.Run(sw.name, func(t *testing.T) {
			forEachBackendMode(t, backends, func(t *testing.T, m mode, b backend) {
				dir := testfs.New(t, "out/f=SECRET", "root/d/f=INSIDE", "root/x=INSIDE")
				root := filepath.Join(dir, "root")
				out := filepath.Join(dir, "out")
				target := sw.target
				if target == "$OUT" || target == "$OUT/f" {
					target = out + target[len("$OUT"):]
				}
				if err := unix.Symlink(target, filepath.Join(root, sw.link)); err != nil {
					t.Fatal(err)
				}
				var secret unix.Stat_t
				if err := unix.Stat(filepath.Join(out, "f"), &secret); err != nil {
					t.Fatal(err)
				}
				r, err := confine.OpenRoot(root, openOpts(m, b)...)
				if err != nil {
					t.Fatal(err)
				}
				defer r.Close()
				raceOpens(t, r, root, sw.open, sw.inner, sw.link, devIno{secret.Dev, secret.Ino})
			})
		})
	}
}

func raceOpens(t *testing.T, r *confine.Root, root, name, inner, link string, secret devIno) {
	dirfd, err := unix.Open(root, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(dirfd)

	var (
		stop                 atomic.Bool
		wg                   sync.WaitGroup
		opened, failed, swap atomic.Int64
		errMu                sync.Mutex
		badErr               error
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for !stop.Load() {
			if err := unix.Renameat2(dirfd, inner, dirfd, link, unix.RENAME_EXCHANGE); err != nil {
				errMu.Lock()
				badErr = err
				errMu.Unlock()
				return
			}
			swap.Add(1)
		}
	}()
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				f, err := r.Open(name)
				if err != nil {
					failed.Add(1)
					if !expectedRaceErr(err) {
						errMu.Lock()
						badErr = err
						errMu.Unlock()
					}
					continue
				}
				opened.Add(1)
				ino := fileInode(t, f)
				b, _ := io.ReadAll(f)
				f.Close()
				if ino == secret || string(b) != "INSIDE" {
					errMu.Lock()
					badErr = errors.New("read " + string(b) + " from outside the root")
					errMu.Unlock()
					stop.Store(true)
				}
			}
		}()
	}
	time.Sleep(raceDuration)
	stop.Store(true)
	wg.Wait()
	if badErr != nil {
		t.Fatalf("Open(%q) under concurrent exchanges = %v, want the inside file or an escape/not-found error", name, badErr)
	}
	// Both outcomes must have been seen, or nothing raced.
	if opened.Load() == 0 || failed.Load() == 0 || swap.Load() == 0 {
		t.Fatalf("no race: %d opens, %d failures, %d exchanges", opened.Load(), failed.Load(), swap.Load())
	}
	t.Logf("%d opens, %d failures, %d exchanges", opened.Load(), failed.Load(), swap.Load())
}

// expectedRaceErr reports whether err is one an open may meet while the
// tree changes under it: the link was met (escape or not found in InRoot),
// the directory was briefly the link, or the retries ran out.
func expectedRaceErr(err error) bool {
	for _, e := range []error{confine.ErrEscape, syscall.ENOENT, syscall.ENOTDIR, syscall.EAGAIN, syscall.ELOOP} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}
