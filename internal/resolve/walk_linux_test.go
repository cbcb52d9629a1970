package resolve

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/pathguard/pathguard/internal/testfs"
)

// newEngines opens dir and returns an Engine per backend and mode, all on
// the same held fd.
func newEngines(t testing.TB, dir string, flags Flags) map[string]*Engine {
	t.Helper()
	fd, err := unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	m := map[string]*Engine{}
	for _, mode := range []Mode{Beneath, InRoot} {
		for _, b := range []Backend{Openat2, Walk} {
			r, err := New(fd, mode, flags, b)
			if err != nil {
				t.Fatalf("New(%v, %v): %v", mode, b, err)
			}
			m[mode.String()+"/"+backendName[b]] = r
		}
	}
	return m
}

func inode(t *testing.T, fd int) [2]uint64 {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		t.Fatal(err)
	}
	return [2]uint64{st.Dev, st.Ino}
}

func countFDs(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

// TestDeepDotDot walks past the 256 held fds and back: a path 600
// directories deep followed by many "..", so the walk must release the
// lowest fds on the way down and reopen them (".." of the child, checked) on the way up.
// Both backends must reach the same inode (or the same error), and the
// walk must never hold more than maxHeld fds.
func TestDeepDotDot(t *testing.T) {
	const depth = 600
	root := testfs.New(t, "top=TOP", strings.Repeat("d/", depth)+"bottom=B", strings.Repeat("d/", 300)+"mid=M",
		strings.Repeat("d/", 270)+"up => "+strings.Repeat("../", 265)+"d/d/d/mid2", strings.Repeat("d/", 8)+"mid2=M2",
		strings.Repeat("d/", 280)+"abs => /"+strings.Repeat("d/", 10))
	down := strings.Repeat("d/", depth)
	names := map[string]string{
		down + "bottom": "ok",
		down + strings.Repeat("../", depth) + "top":       "ok",
		down + strings.Repeat("../", 300) + "mid":         "ok",
		down + strings.Repeat("../", 330) + "d/" + "x/..": "ENOENT",
		down + strings.Repeat("../", depth+1) + "top":     "escape",
		strings.Repeat("d/", 270) + "up":                  "ok", // follows the link down near the top
		strings.Repeat("d/", 280) + "abs/../../top":       "abs",
		down + strings.Repeat("../", 300) + "mid/..":      "ENOTDIR",
	}
	rs := newEngines(t, root, 0)
	for _, name := range slices.Sorted(maps.Keys(names)) {
		if len(name) >= maxPath {
			t.Fatalf("test name too long: %d", len(name))
		}
		results := map[string]string{}
		for _, key := range []string{"Beneath/openat2", "Beneath/walk", "InRoot/openat2", "InRoot/walk"} {
			r := rs[key]
			fd, err := openRetrying(r, name, unix.O_PATH)
			if err != nil {
				results[key] = errName(err)
				continue
			}
			results[key] = inodeString(inode(t, fd))
			unix.Close(fd)
		}
		for _, mode := range []string{"Beneath", "InRoot"} {
			if a, b := results[mode+"/openat2"], results[mode+"/walk"]; a != b {
				t.Errorf("%s: Open(%.40q...) = %s with openat2, %s with walk", mode, name, a, b)
			}
		}
		switch names[name] {
		case "ok":
			if strings.HasPrefix(results["Beneath/walk"], "err:") {
				t.Errorf("Open(%.40q...) = %s, want success", name, results["Beneath/walk"])
			}
		case "escape":
			if results["Beneath/walk"] != "err:escape" || strings.HasPrefix(results["InRoot/walk"], "err:") {
				t.Errorf("Open(%.40q...) = %v, want an escape in Beneath only", name, results)
			}
		case "abs":
			if results["Beneath/walk"] != "err:escape" || results["InRoot/walk"] != results["InRoot/openat2"] {
				t.Errorf("Open(%.40q...) = %v, want an escape in Beneath", name, results)
			}
		default:
			if results["Beneath/walk"] != "err:"+names[name] {
				t.Errorf("Open(%.40q...) = %s, want %s", name, results["Beneath/walk"], names[name])
			}
		}
	}

	// Resolve's answer after the reopened ".."s is the path it really reached.
	for _, key := range []string{"Beneath/walk", "Beneath/openat2"} {
		got, err := untilQuiet(func() (string, error) { return rs[key].Resolve(down + strings.Repeat("../", 300)) })
		if want := strings.TrimSuffix(strings.Repeat("d/", 300), "/"); err != nil || got != want {
			t.Errorf("%s: Resolve(down 600, up 300) = %.20q (len %d), %v, want len %d", key, got, len(got), err, len(want))
		}
	}

	// The walk holds at most maxHeld fds however deep it goes.
	r := rs["Beneath/walk"]
	before := countFDs(t)
	w := r.newWalker()
	if _, err := w.walk(down+"bottom", walkOpts{}); err != nil {
		t.Fatalf("walk: %v", err)
	}
	held := countFDs(t) - before
	if held > maxHeld || w.held != held {
		t.Errorf("walk 600 deep holds %d fds (counted %d), want at most %d", w.held, held, maxHeld)
	}
	w.close()
	if after := countFDs(t); after != before {
		t.Errorf("walk left %d fds open after close", after-before)
	}
}

// untilQuiet repeats call while it fails with ErrRetry, for up to 10 s.
// openat2 answers EAGAIN for a ".." whenever anything on the system was
// renamed during the lookup (the kernel cannot then be sure ".." stayed
// beneath the root), and other packages' race tests rename thousands of
// times a second while this one runs. ErrRetry is the documented,
// retryable answer; the answer compared is the one given once the system
// is quiet enough.
func untilQuiet[T any](call func() (T, error)) (T, error) {
	deadline := time.Now().Add(10 * time.Second)
	for {
		v, err := call()
		if err != ErrRetry || time.Now().After(deadline) {
			return v, err
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// openRetrying is r.Open through untilQuiet.
func openRetrying(r *Engine, name string, flags int) (int, error) {
	return untilQuiet(func() (int, error) { return r.Open(name, flags, 0) })
}

func inodeString(di [2]uint64) string { return fmt.Sprintf("ino:%d:%d", di[0], di[1]) }

func errName(err error) string {
	switch {
	case errors.Is(err, ErrEscape):
		return "err:escape"
	case errors.Is(err, syscall.ENOENT):
		return "err:ENOENT"
	case errors.Is(err, syscall.ENOTDIR):
		return "err:ENOTDIR"
	case errors.Is(err, syscall.ELOOP):
		return "err:ELOOP"
	}
	return "err:" + err.Error()
}

// backendName names a backend in test keys.
var backendName = map[Backend]string{Auto: "auto", Openat2: "openat2", Walk: "walk"}
