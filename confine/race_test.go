//go:build linux && !pathguard_osroot

package confine_test

import (
	"errors"
	"fmt"
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

// A race runs until each outcome has been seen raceMin times (and the
// swapper has swapped raceMin times), whatever the machine's load: a
// count, not a duration. raceDeadline only bounds a race that cannot
// reach its counts, which is itself a failure (nothing raced).
const (
	raceMin      = 20
	raceDeadline = 2 * time.Minute
)

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
	race(t, func() error {
		return unix.Renameat2(dirfd, inner, dirfd, link, unix.RENAME_EXCHANGE)
	}, func() (bool, error) {
		f, err := r.Open(name)
		if err != nil {
			if expectedRaceErr(err) {
				return false, nil
			}
			return false, fmt.Errorf("Open(%q) under concurrent exchanges = %w, want the inside file or an escape/not-found error", name, err)
		}
		ino := fileInode(t, f)
		b, _ := io.ReadAll(f)
		f.Close()
		if ino == secret || string(b) != "INSIDE" {
			return false, fmt.Errorf("Open(%q) read %q from outside the root", name, b)
		}
		return true, nil
	})
}

// race runs swap in a loop in one goroutine and try in a loop in two
// others, until swap has succeeded and try has both succeeded and failed
// (its bool) raceMin times each. An error from swap, or from try (a
// broken guarantee), stops the race and fails t. Both outcomes must be
// seen, or nothing raced and the test proves nothing.
func race(t *testing.T, swap func() error, try func() (ok bool, err error)) {
	t.Helper()
	var (
		stop              atomic.Bool
		wg                sync.WaitGroup
		swaps, oks, fails atomic.Int64
		errMu             sync.Mutex
		badErr            error
	)
	fail := func(err error) {
		errMu.Lock()
		if badErr == nil {
			badErr = err
		}
		errMu.Unlock()
		stop.Store(true)
	}
	done := func() bool {
		return swaps.Load() >= raceMin && oks.Load() >= raceMin && fails.Load() >= raceMin
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for !stop.Load() {
			if err := swap(); err != nil {
				fail(fmt.Errorf("swap: %w", err))
				return
			}
			swaps.Add(1)
		}
	}()
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				ok, err := try()
				switch {
				case err != nil:
					fail(err)
				case ok:
					oks.Add(1)
				default:
					fails.Add(1)
				}
			}
		}()
	}
	deadline := time.Now().Add(raceDeadline)
	for !stop.Load() && !done() && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	stop.Store(true)
	wg.Wait()
	if badErr != nil {
		t.Fatal(badErr)
	}
	if !done() {
		t.Fatalf("no race within %v: %d successes, %d failures, %d swaps", raceDeadline, oks.Load(), fails.Load(), swaps.Load())
	}
	t.Logf("%d successes, %d failures, %d swaps", oks.Load(), fails.Load(), swaps.Load())
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
