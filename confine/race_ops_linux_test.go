//go:build !pathguard_osroot

package confine_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/pathguard/pathguard/confine"
	"github.com/pathguard/pathguard/internal/testfs"
)

// The mutating operations, raced. Each operation runs in a loop (race's
// two goroutines) while a third goroutine changes the tree under it:
//
//   - final: a link to the outside is planted at the name the operation
//     creates or removes and taken away again ("new -> ../out/pwn"), or a
//     file is exchanged with a link to an outside file (x <-> lx);
//   - mid: the directory d the name goes through is exchanged with a
//     link to the outside directory (d <-> l, l -> ../out);
//   - descent: a directory RemoveAll is about to open and empty is
//     exchanged with a link to an outside directory.
//
// Whatever the interleaving, the canary tree next to the root (out, with
// files and a directory of the same names as inside) must stay exactly
// as it was: nothing created, written, truncated, chmodded, linked,
// moved or deleted there (testfs.State, compared every few calls and at
// the end). Each race runs until the operation has both succeeded and
// been refused (or met the link) raceMin times and the swapper has really
// swapped raceMin times, under both backends and both modes: a count of
// events, never a duration.

// raceWorld is one race's tree: base/root (the Root) beside base/out
// (the canary).
type raceWorld struct {
	r         *confine.Root
	root, out string
	rootfd    int
	topfd     int // root/top, for RemoveAll/descent
	canary    map[string]string
	n         atomic.Int64 // unique names
	calls     atomic.Int64 // calls begun
	swaps     atomic.Int64 // swaps that really changed the tree
	serial    sync.Mutex   // held by a try that rebuilds what it consumes
}

// raceTree is every race's starting tree, relative to base.
var raceTree = []string{
	"out/secret=SECRET", "out/victim=OUT", "out/f=OUT", "out/vdir/f=OUT",
	"root/d/f=IN", "root/d/victim=IN", "root/d/vdir/f=IN",
	"root/l => ../out", "root/x=INSIDE", "root/lx => ../out/secret", "root/f=F",
	"root/top/x/", "root/top/y => ../../out/vdir",
}

func newRaceWorld(t *testing.T, opts []confine.Option) *raceWorld {
	t.Helper()
	base := testfs.New(t, raceTree...)
	w := &raceWorld{root: filepath.Join(base, "root"), out: filepath.Join(base, "out")}
	var err error
	if w.canary, err = testfs.State(w.out); err != nil {
		t.Fatal(err)
	}
	if w.rootfd, err = unix.Open(w.root, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(w.rootfd) })
	if w.topfd, err = unix.Openat(w.rootfd, "top", unix.O_PATH|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(w.topfd) })
	if w.r, err = confine.OpenRoot(w.root, opts...); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.r.Close() })
	return w
}

// name returns a name no other call of the race uses: prefix and a
// number.
func (w *raceWorld) name(prefix string) string {
	return fmt.Sprintf("%s%d", prefix, w.n.Add(1))
}

// intact compares the canary tree with its state before the race.
func (w *raceWorld) intact() error {
	now, err := testfs.State(w.out)
	if err != nil {
		return err
	}
	var diff []string
	for name, was := range w.canary {
		if is, ok := now[name]; !ok {
			diff = append(diff, fmt.Sprintf("%s: was %s, is gone", name, was))
		} else if is != was {
			diff = append(diff, fmt.Sprintf("%s: was %s, is %s", name, was, is))
		}
	}
	for name, is := range now {
		if _, ok := w.canary[name]; !ok {
			diff = append(diff, fmt.Sprintf("%s: was not there, is %s", name, is))
		}
	}
	if diff != nil {
		slices.Sort(diff)
		return fmt.Errorf("the tree outside the root changed:\n%s", strings.Join(diff, "\n"))
	}
	return nil
}

// canaryEvery is how often (in calls) the canary is compared while a
// race runs; it is always compared once the race is over. Each compare
// reads the whole canary tree.
const canaryEvery = 4

// outcome is race's answer for a call that returned err: success, a
// refusal the call may meet while the tree changes under it, or a broken
// guarantee (the canary changed, or an error no interleaving explains).
func (w *raceWorld) outcome(what string, err error) (bool, error) {
	if w.calls.Load()%canaryEvery == 0 {
		if e := w.intact(); e != nil {
			return false, fmt.Errorf("%s = %v, and %w", what, err, e)
		}
	}
	if err == nil {
		return true, nil
	}
	if raceRefusal(err) {
		return false, nil
	}
	return false, fmt.Errorf("%s = %v, want success or a refusal", what, err)
}

// raceRefusal reports whether err is an answer a mutating call may give
// while links come and go at its names: expectedRaceErr's, and the
// answers about the entry met at the final name.
func raceRefusal(err error) bool {
	if expectedRaceErr(err) {
		return true
	}
	for _, e := range []error{syscall.EEXIST, syscall.EISDIR, syscall.ENOTEMPTY} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// swapTries bounds how often a swap is attempted before it gives up
// for this round: an operation may keep the tree unswappable for a
// while (a name moved away, a file where a link is planted), and the
// swapper must still return so that the race can stop.
const swapTries = 1 << 16

// exchange swaps the entries a and b (relative to the root) atomically.
// One side may be away for a moment (an operation moved or removed it):
// the swap is tried again.
func (w *raceWorld) exchange(a, b string) func() error {
	return func() error {
		for range swapTries {
			switch err := unix.Renameat2(w.rootfd, a, w.rootfd, b, unix.RENAME_EXCHANGE); err {
			case nil:
				w.swaps.Add(1)
				return nil
			case unix.ENOENT:
				runtime.Gosched()
			default:
				return err
			}
		}
		return nil
	}
}

// plant makes name a link to target, replacing whatever an operation
// created there meanwhile (the link is made aside and renamed over it),
// then removes the link again once a call has begun. An operation that succeeds removes what it
// made, too, so that the next one meets the name free or the link, not
// its own leftover.
func (w *raceWorld) plant(name, target string) func() error {
	aside := name + ".link"
	return func() error {
		for range swapTries {
			if err := unix.Symlinkat(target, w.rootfd, aside); err != nil && err != unix.EEXIST {
				return err
			}
			n := w.calls.Load()
			switch err := unix.Renameat(w.rootfd, aside, w.rootfd, name); err {
			case nil:
				w.swaps.Add(1)
				// Leave the link until a call has begun (or a few
				// yields), so that calls meet it about as often as the
				// free name.
				for i := 0; i < 64 && w.calls.Load() == n; i++ {
					runtime.Gosched()
				}
				w.clear(name)
				return nil
			case unix.EISDIR, unix.ENOTEMPTY, unix.EEXIST:
				w.clear(name) // a directory an operation made
			default:
				return err
			}
		}
		return nil
	}
}

// clear removes name in the root, whatever it is, never following a
// link: os.RemoveAll opens what it empties with O_NOFOLLOW on held fds,
// and the root itself is trusted. It may fail while an operation fills
// what it empties; the next round removes it.
func (w *raceWorld) clear(name string) {
	if unix.Unlinkat(w.rootfd, name, 0) == unix.EISDIR {
		os.RemoveAll(filepath.Join(w.root, name))
	}
}

// insideD opens (O_PATH) whichever of d and l is the directory now: the
// d inside the root, wherever the exchanges have put it.
func (w *raceWorld) insideD() (int, error) {
	for range 1000 {
		for _, n := range []string{"d", "l"} {
			fd, err := unix.Openat(w.rootfd, n, unix.O_PATH|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
			switch err {
			case nil:
				return fd, nil
			case unix.ENOTDIR, unix.ENOENT, unix.ELOOP:
			default:
				return -1, err
			}
		}
	}
	return -1, errors.New("neither d nor l is a directory")
}

// makeFile creates the file name in dirfd if it is missing, never
// following a link.
func makeFile(dirfd int, name string) error {
	fd, err := unix.Openat(dirfd, name, unix.O_WRONLY|unix.O_CREAT|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o644)
	if err != nil {
		return err
	}
	return unix.Close(fd)
}

// makeDir creates the directory name in dirfd, holding a file f, if it
// is missing, and returns an O_PATH fd on it; made says it was created
// now. A link at name is ENOTDIR. A directory removed as soon as made is
// made again, a few times.
func makeDir(dirfd int, name string) (fd int, made bool, err error) {
	for range 100 {
		err = unix.Mkdirat(dirfd, name, 0o755)
		if err != nil && err != unix.EEXIST {
			return -1, false, err
		}
		made = err == nil
		fd, err = unix.Openat(dirfd, name, unix.O_PATH|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		if err == unix.ENOENT {
			continue
		}
		if err != nil {
			return -1, false, err
		}
		if err := makeFile(fd, "f"); err != nil {
			unix.Close(fd)
			if err == unix.ENOENT {
				continue
			}
			return -1, false, err
		}
		return fd, made, nil
	}
	return -1, false, unix.ENOENT
}

// typeAt is the file type (S_IFREG...) of name in dirfd, the entry itself.
func typeAt(dirfd int, name string) (uint32, error) {
	var st unix.Stat_t
	if err := unix.Fstatat(dirfd, name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return 0, err
	}
	return st.Mode & unix.S_IFMT, nil
}

// A raceOp is one operation raced one way: swap changes the tree, try
// makes one call and says how it went.
type raceOp struct {
	name string
	swap func(w *raceWorld) func() error
	try  func(w *raceWorld) (bool, error)
}

// raceOpts are the options a race runs with beyond mode and backend.
var raceOpts = map[string][]confine.Option{
	// NoXDev makes the walk resolve the final name before creating it
	// (no single direct openat): the walk's other way to create.
	"OpenFile-create/final-NoXDev": {confine.NoXDev()},
}

// raceRounds runs a race more than once: the walk's create of a name
// found missing is a narrow window, met only now and then in one race.
var raceRounds = map[string]int{"OpenFile-create/final-NoXDev": 4}

func plantAt(name, target string) func(w *raceWorld) func() error {
	return func(w *raceWorld) func() error {
		if rest, ok := strings.CutPrefix(target, "$OUT"); ok {
			return w.plant(name, w.out+rest)
		}
		return w.plant(name, target)
	}
}

func exchangeOf(a, b string) func(w *raceWorld) func() error {
	return func(w *raceWorld) func() error { return w.exchange(a, b) }
}

// serial makes try one at a time: a try that rebuilds the entry it
// removes or moves, so the two goroutines of the race do not undo each
// other's building, only the swapper races it.
func serial(try func(w *raceWorld) (bool, error)) func(w *raceWorld) (bool, error) {
	return func(w *raceWorld) (bool, error) {
		w.serial.Lock()
		defer w.serial.Unlock()
		return try(w)
	}
}

// call is a try that makes one call and judges its error.
func call(what string, do func(r *confine.Root) error) func(w *raceWorld) (bool, error) {
	return func(w *raceWorld) (bool, error) { return w.outcome(what, do(w.r)) }
}

// made is a try for an operation that creates name: one call, and what
// it made removed again.
func made(name, what string, do func(r *confine.Root) error) func(w *raceWorld) (bool, error) {
	return func(w *raceWorld) (bool, error) {
		err := do(w.r)
		if err == nil {
			w.clear(name)
		}
		return w.outcome(what, err)
	}
}

var raceOps = []raceOp{
	// A link planted at the final name, and removed again.
	{"OpenFile-create/final", plantAt("new", "../out/pwn"), made("new", "OpenFile(new, O_CREATE)", func(r *confine.Root) error {
		return opsClose(r.OpenFile("new", os.O_WRONLY|os.O_CREATE, 0o644))
	})},
	{"OpenFile-create/final-NoXDev", plantAt("new", "../out/pwn"), made("new", "OpenFile(new, O_CREATE)", func(r *confine.Root) error {
		return opsClose(r.OpenFile("new", os.O_WRONLY|os.O_CREATE, 0o644))
	})},
	{"OpenFile-create/final-absolute", plantAt("new", "$OUT/pwn"), call("OpenFile(new, O_CREATE)", func(r *confine.Root) error {
		return opsClose(r.OpenFile("new", os.O_WRONLY|os.O_CREATE, 0o644))
	})},
	{"Create/final", plantAt("new", "../out/secret"), made("new", "Create(new)", func(r *confine.Root) error {
		return opsClose(r.Create("new"))
	})},
	{"WriteFile/final", plantAt("new", "../out/secret"), made("new", "WriteFile(new)", func(r *confine.Root) error {
		return r.WriteFile("new", []byte("pwned"), 0o644)
	})},
	{"Mkdir/final", plantAt("new", "../out/pwn"), made("new", "Mkdir(new)", func(r *confine.Root) error {
		return r.Mkdir("new", 0o755)
	})},
	{"MkdirAll/final", plantAt("new", "../out/vdir"), made("new", "MkdirAll(new/sub)", func(r *confine.Root) error {
		return r.MkdirAll("new/sub", 0o755)
	})},
	{"Symlink/final", plantAt("new", "../out/pwn"), made("new", "Symlink(f, new)", func(r *confine.Root) error {
		return r.Symlink("f", "new")
	})},
	{"Link/final", plantAt("new", "../out/pwn"), made("new", "Link(f, new)", func(r *confine.Root) error {
		return r.Link("f", "new")
	})},
	{"Remove/final", plantAt("new", "../out/victim"), serial(func(w *raceWorld) (bool, error) {
		// Success is removing the file made here; meeting the link (or
		// nothing) is the other outcome.
		fd, err := unix.Openat(w.rootfd, "new", unix.O_RDONLY|unix.O_CREAT|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o644)
		switch err {
		case nil:
			defer unix.Close(fd)
		case unix.ELOOP:
		default:
			return false, err
		}
		ok, err := w.outcome("Remove(new)", w.r.Remove("new"))
		var st unix.Stat_t
		return ok && fd >= 0 && unix.Fstat(fd, &st) == nil && st.Nlink == 0, err
	})},
	{"RemoveAll/final", plantAt("new", "../out/vdir"), serial(func(w *raceWorld) (bool, error) {
		fd, made, err := makeDir(w.rootfd, "new")
		switch err {
		case nil:
			defer unix.Close(fd)
		case unix.ENOTDIR, unix.ELOOP, unix.ENOENT: // the link, or gone again
		default:
			return false, err
		}
		ok, err := w.outcome("RemoveAll(new)", w.r.RemoveAll("new"))
		// Success is removing the directory made here; meeting the
		// link (or another call's directory) is the other outcome.
		return ok && made, err
	})},

	// A file exchanged with a link to an outside file.
	{"Chmod/final", exchangeOf("x", "lx"), call("Chmod(x)", func(r *confine.Root) error {
		return r.Chmod("x", 0o600)
	})},
	{"OpenFile-create/final-existing", exchangeOf("x", "lx"), call("OpenFile(x, O_CREATE|O_TRUNC)", func(r *confine.Root) error {
		return opsClose(r.OpenFile("x", os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644))
	})},
	{"Create/final-existing", exchangeOf("x", "lx"), call("Create(x)", func(r *confine.Root) error {
		return opsClose(r.Create("x"))
	})},
	{"WriteFile/final-existing", exchangeOf("x", "lx"), call("WriteFile(x)", func(r *confine.Root) error {
		return r.WriteFile("x", []byte("pwned"), 0o644)
	})},
	{"Link/final-old", exchangeOf("x", "lx"), func(w *raceWorld) (bool, error) {
		h := w.name("h")
		if ok, err := w.outcome("Link(x, "+h+")", w.r.Link("x", h)); !ok || err != nil {
			return ok, err
		}
		// The entry itself is linked, never followed: the file, or
		// the link.
		typ, err := typeAt(w.rootfd, h)
		if err != nil {
			return false, err
		}
		if err := unix.Unlinkat(w.rootfd, h, 0); err != nil {
			return false, err
		}
		return typ == unix.S_IFREG, nil
	}},
	{"Rename/final-old", exchangeOf("x", "lx"), serial(func(w *raceWorld) (bool, error) {
		y := w.name("y")
		err := w.r.Rename("x", y)
		var typ uint32
		if err == nil {
			var e error
			if typ, e = typeAt(w.rootfd, y); e != nil {
				return false, e
			}
			// Put it back for the exchanges; nothing else makes an x.
			if e := unix.Renameat2(w.rootfd, y, w.rootfd, "x", unix.RENAME_NOREPLACE); e != nil {
				return false, fmt.Errorf("putting %s back: %w", y, e)
			}
		}
		ok, err := w.outcome("Rename(x, "+y+")", err)
		return ok && typ == unix.S_IFREG, err
	})},

	// The directory d exchanged with a link to the outside directory.
	{"OpenFile-create/mid", exchangeOf("d", "l"), func(w *raceWorld) (bool, error) {
		n := w.name("d/new")
		return w.outcome("OpenFile("+n+", O_CREATE)", opsClose(w.r.OpenFile(n, os.O_WRONLY|os.O_CREATE, 0o644)))
	}},
	{"Create/mid", exchangeOf("d", "l"), call("Create(d/f)", func(r *confine.Root) error {
		return opsClose(r.Create("d/f"))
	})},
	{"WriteFile/mid", exchangeOf("d", "l"), func(w *raceWorld) (bool, error) {
		n := w.name("d/w")
		return w.outcome("WriteFile("+n+")", w.r.WriteFile(n, []byte("pwned"), 0o644))
	}},
	{"Mkdir/mid", exchangeOf("d", "l"), func(w *raceWorld) (bool, error) {
		n := w.name("d/m")
		return w.outcome("Mkdir("+n+")", w.r.Mkdir(n, 0o755))
	}},
	{"MkdirAll/mid", exchangeOf("d", "l"), func(w *raceWorld) (bool, error) {
		n := w.name("d/a") + "/b"
		return w.outcome("MkdirAll("+n+")", w.r.MkdirAll(n, 0o755))
	}},
	{"Symlink/mid", exchangeOf("d", "l"), func(w *raceWorld) (bool, error) {
		n := w.name("d/s")
		return w.outcome("Symlink(f, "+n+")", w.r.Symlink("f", n))
	}},
	{"Link/mid-new", exchangeOf("d", "l"), func(w *raceWorld) (bool, error) {
		n := w.name("d/h")
		return w.outcome("Link(f, "+n+")", w.r.Link("f", n))
	}},
	{"Link/mid-old", exchangeOf("d", "l"), func(w *raceWorld) (bool, error) {
		h := w.name("h")
		ok, err := w.outcome("Link(d/f, "+h+")", w.r.Link("d/f", h))
		if ok && err == nil {
			err = unix.Unlinkat(w.rootfd, h, 0)
		}
		return ok, err
	}},
	{"Rename/mid-new", exchangeOf("d", "l"), func(w *raceWorld) (bool, error) {
		src := w.name("src")
		if err := makeFile(w.rootfd, src); err != nil {
			return false, err
		}
		n := w.name("d/r")
		return w.outcome("Rename("+src+", "+n+")", w.r.Rename(src, n))
	}},
	{"Rename/mid-old", exchangeOf("d", "l"), serial(func(w *raceWorld) (bool, error) {
		if err := w.inD(func(dfd int) error { return makeFile(dfd, "victim") }); err != nil {
			return false, err
		}
		n := w.name("got")
		return w.outcome("Rename(d/victim, "+n+")", w.r.Rename("d/victim", n))
	})},
	{"Remove/mid", exchangeOf("d", "l"), serial(func(w *raceWorld) (bool, error) {
		if err := w.inD(func(dfd int) error { return makeFile(dfd, "victim") }); err != nil {
			return false, err
		}
		return w.outcome("Remove(d/victim)", w.r.Remove("d/victim"))
	})},
	{"RemoveAll/mid", exchangeOf("d", "l"), serial(func(w *raceWorld) (bool, error) {
		// In InRoot mode d as the link leads to the missing root/out,
		// and RemoveAll of a missing name is nil: success is judged by
		// what became of the directory inside.
		var vfd int
		if err := w.inD(func(dfd int) (err error) {
			vfd, _, err = makeDir(dfd, "vdir")
			return err
		}); err != nil {
			return false, err
		}
		defer unix.Close(vfd)
		ok, err := w.outcome("RemoveAll(d/vdir)", w.r.RemoveAll("d/vdir"))
		var st unix.Stat_t
		if e := unix.Fstat(vfd, &st); e != nil {
			return false, e
		}
		return ok && st.Nlink == 0, err
	})},
	{"Chmod/mid", exchangeOf("d", "l"), call("Chmod(d/f)", func(r *confine.Root) error {
		return r.Chmod("d/f", 0o600)
	})},

	// RemoveAll's descent: top/x, a directory RemoveAll is about to
	// open and empty, is exchanged with top/y, a link to an outside
	// directory. RemoveAll(top/x) removes one of them; the other is
	// paired again before each call.
	{"RemoveAll/descent", exchangeOf("top/x", "top/y"), serial(func(w *raceWorld) (bool, error) {
		typ, err := typeAt(w.topfd, "y")
		switch {
		case err != nil:
			return false, err
		case typ == unix.S_IFLNK:
			err = unix.Mkdirat(w.topfd, "x", 0o755)
		default:
			err = unix.Symlinkat("../../out/vdir", w.topfd, "x")
		}
		if err != nil && err != unix.EEXIST {
			return false, err
		}
		return w.outcome("RemoveAll(top/x)", w.r.RemoveAll("top/x"))
	})},
}

// inD runs fn on the directory d inside the root.
func (w *raceWorld) inD(fn func(dfd int) error) error {
	dfd, err := w.insideD()
	if err != nil {
		return err
	}
	defer unix.Close(dfd)
	return fn(dfd)
}

func TestRaceOps(t *testing.T) {
	for _, op := range raceOps {
		t.Run(op.name, func(t *testing.T) {
			forEachBackendMode(t, backends, func(t *testing.T, m mode, b backend) {
				w := newRaceWorld(t, openOpts(m, b, raceOpts[op.name]...))
				for range max(raceRounds[op.name], 1) {
					race(t, op.swap(w), func() (bool, error) {
						w.calls.Add(1)
						return op.try(w)
					})
				}
				if n := w.swaps.Load(); n < raceMin {
					t.Fatalf("%d swaps changed the tree, want %d", n, raceMin)
				}
				if err := w.intact(); err != nil {
					t.Fatal(err)
				}
			})
		})
	}
}
