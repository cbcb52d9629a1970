package canon_test

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/pathguard/pathguard/canon"
	"github.com/pathguard/pathguard/internal/resolve"
	"github.com/pathguard/pathguard/internal/testfs"
)

var resolveTests = []struct {
	name    string
	want    string // relative to the root, slash-separated
	wantErr error
	reason  string
}{
	{name: "a/f", want: "a/f", reason: "plain file"},
	{name: "a/b/", want: "a/b", reason: "directory with a trailing slash"},
	{name: ".", want: ".", reason: "the root"},
	{name: "/", want: ".", reason: "absolute root"},
	{name: "..", want: ".", reason: "\"..\" at the root stays there"},
	{name: "../../../a/f", want: "a/f", reason: "\"..\" escape clamped"},
	{name: "/a/b/g", want: "a/b/g", reason: "absolute name re-rooted"},
	{name: "a/b/../f", want: "a/f", reason: "\"..\" inside"},
	{name: "a/up/a/f", want: "a/f", reason: "upward link clamped"},
	{name: "up/up/a/b/g", want: "a/b/g", reason: "upward links at the root"},
	{name: "a/upup/a/f", want: "a/f", reason: "deep upward link clamped"},
	{name: "abs/f", want: "a/f", reason: "absolute link to a directory"},
	{name: "absf", want: "a/f", reason: "absolute link to a file"},
	{name: "abs/../a/b/g", want: "a/b/g", reason: "\"..\" after an absolute link"},
	{name: "c1", want: "a/f", reason: "chain of relative and absolute links"},
	{name: "dir", want: "a/b", reason: "link with a trailing slash in its target"},
	{name: "dir/g", want: "a/b/g", reason: "through a link with a trailing slash"},
	{name: "dir/", want: "a/b", reason: "link followed for a trailing slash"},
	{name: "a/hostetc/passwd", wantErr: fs.ErrNotExist, reason: "the host's /etc is out of reach"},
	{name: "a/etcpw", wantErr: fs.ErrNotExist, reason: "absolute link to the host's /etc/passwd re-rooted"},
	{name: "dangle", wantErr: fs.ErrNotExist, reason: "dangling link"},
	{name: "dangleabs", wantErr: fs.ErrNotExist, reason: "dangling absolute link"},
	{name: "nonexist/../a/f", wantErr: fs.ErrNotExist, reason: "a missing component is not a name"},
	{name: "a/f/..", wantErr: syscall.ENOTDIR, reason: "a file is not a directory"},
	{name: "a/f/", wantErr: syscall.ENOTDIR, reason: "trailing slash on a file"},
	{name: "absf/", wantErr: syscall.ENOTDIR, reason: "trailing slash on a link to a file"},
	{name: "loop1", wantErr: syscall.ELOOP, reason: "two-link loop"},
	{name: "self/x", wantErr: syscall.ELOOP, reason: "self loop"},
	{name: "selfabs/x", wantErr: syscall.ELOOP, reason: "absolute self loop"},
	{name: "hop/h1", want: "a/f", reason: "40 links: the kernel's MAXSYMLINKS"},
	{name: "hop/h0", wantErr: syscall.ELOOP, reason: "41 links"},
}

// resolveTree is the hostile tree with a chain of 41 links, h0 to h40,
// the last leading to a/f.
func resolveTree() []string {
	tree := append([]string{}, hostileTree...)
	for i := range 40 {
		tree = append(tree, fmt.Sprintf("hop/h%d => h%d", i, i+1))
	}
	return append(tree, "hop/h40 => /a/f")
}

// backends runs f once with the default backend (openat2 on this kernel)
// and once with openat2 refused as by a seccomp filter, which makes the
// resolver fall back to the walk, so both arms are held to the same cases.
func backends(t *testing.T, f func(t *testing.T)) {
	if !openat2Works() {
		t.Log("openat2 unavailable: the default backend is the walk")
	}
	t.Run("auto", f)
	t.Run("walk", func(t *testing.T) {
		calls := 0
		restore := resolve.SetOpenat2ForTest(func(int, string, *unix.OpenHow) (int, error) {
			calls++
			return -1, unix.ENOSYS
		})
		t.Cleanup(restore)
		f(t)
		if calls == 0 {
			t.Errorf("openat2 was never tried: the walk arm did not run as intended")
		}
	})
}

func openat2Works() bool {
	fd, err := unix.Openat2(unix.AT_FDCWD, ".", &unix.OpenHow{Flags: unix.O_PATH | unix.O_CLOEXEC})
	if err != nil {
		return false
	}
	unix.Close(fd)
	return true
}

func TestResolve(t *testing.T) {
	root := testfs.New(t, resolveTree()...)
	backends(t, func(t *testing.T) {
		for _, tt := range resolveTests {
			got, err := resolveRetrying(root, tt.name)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Errorf("Resolve(root, %q) = %q, %v, want %v (%s)", tt.name, got, err, tt.wantErr, tt.reason)
				}
				checkPathError(t, "Resolve", err, "resolve", tt.name)
				continue
			}
			want := filepath.Join(root, tt.want)
			if err != nil || got != want {
				t.Errorf("Resolve(root, %q) = %q, %v, want %q (%s)", tt.name, got, err, want, tt.reason)
			}
		}
	})
}

// TestResolveKernel compares Resolve with the kernel's own
// RESOLVE_IN_ROOT on every name built from the hostile tree: both fail
// with the same errno, or the path Resolve returns is the very inode the
// kernel opens. Under the walk arm this is a differential test of two
// independent implementations.
func TestResolveKernel(t *testing.T) {
	if !openat2Works() {
		t.Skip("openat2 unavailable: no kernel oracle")
	}
	root := testfs.New(t, resolveTree()...)
	rootfd, err := unix.Open(root, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(rootfd)
	names := append(hostileNames(), "hop/h0", "hop/h1", "a/f/", "dir/")
	for _, tt := range resolveTests {
		names = append(names, tt.name)
	}
	backends(t, func(t *testing.T) {
		for _, name := range names {
			got, err := resolveRetrying(root, name)
			kst, kerr := kernelStat(rootfd, name)
			if kerr != nil {
				if !errors.Is(err, kerr) {
					t.Errorf("Resolve(root, %q) = %q, %v, want %v (RESOLVE_IN_ROOT)", name, got, err, kerr)
				}
				continue
			}
			if err != nil {
				t.Errorf("Resolve(root, %q) = %v, want a path (RESOLVE_IN_ROOT succeeds)", name, err)
				continue
			}
			if !canon.Within(root, got) {
				t.Errorf("Resolve(root, %q) = %q, outside root %q", name, got, root)
			}
			var st unix.Stat_t
			if err := unix.Stat(got, &st); err != nil {
				t.Errorf("Resolve(root, %q) = %q, which cannot be stat'ed: %v", name, got, err)
				continue
			}
			if st.Dev != kst.Dev || st.Ino != kst.Ino {
				t.Errorf("Resolve(root, %q) = %q, inode %d:%d, want %d:%d (RESOLVE_IN_ROOT)", name, got, st.Dev, st.Ino, kst.Dev, kst.Ino)
			}
		}
	})
}

// resolveRetrying is canon.Resolve, retried while it fails with EAGAIN
// (testfs.Retry says why).
func resolveRetrying(root, name string) (got string, err error) {
	err = testfs.Retry(func() error {
		got, err = canon.Resolve(root, name)
		return err
	})
	return got, err
}

// kernelStat opens name beneath rootfd with openat2 RESOLVE_IN_ROOT, as
// the kernel resolves it, and returns what it reached.
func kernelStat(rootfd int, name string) (unix.Stat_t, error) {
	var st unix.Stat_t
	how := unix.OpenHow{Flags: unix.O_PATH | unix.O_CLOEXEC, Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS}
	var fd int
	err := testfs.Retry(func() (err error) {
		fd, err = unix.Openat2(rootfd, name, &how)
		return err
	})
	if err != nil {
		return st, err
	}
	defer unix.Close(fd)
	return st, unix.Fstat(fd, &st)
}

// TestResolveProc uses "/" as the root, where /proc is reachable: plain
// procfs links are followed, magic links are refused.
func TestResolveProc(t *testing.T) {
	if _, err := os.Stat("/proc/self/fd"); err != nil {
		t.Skip("no /proc")
	}
	backends(t, func(t *testing.T) {
		self := fmt.Sprintf("/proc/%d", os.Getpid())
		if got, err := canon.Resolve("/", "/proc/self"); err != nil || got != self {
			t.Errorf("Resolve(\"/\", \"/proc/self\") = %q, %v, want %q", got, err, self)
		}
		for _, name := range []string{"/proc/self/exe", "/proc/self/cwd/", "/proc/self/fd/0", "/proc/self/root/etc"} {
			if got, err := canon.Resolve("/", name); !errors.Is(err, syscall.ELOOP) {
				t.Errorf("Resolve(\"/\", %q) = %q, %v, want ELOOP (magic link)", name, got, err)
			}
		}
	})
}

func TestResolveInvalid(t *testing.T) {
	root := testfs.New(t, resolveTree()...)
	for _, tt := range invalidPaths {
		got, err := canon.Resolve(root, tt.p)
		if !errors.Is(err, canon.ErrInvalid) {
			t.Errorf("Resolve(root, %q) = %q, %v, want ErrInvalid (%s)", tt.p, got, err, tt.reason)
		}
		checkPathError(t, "Resolve", err, "resolve", tt.p)
	}
	for _, tt := range []struct {
		root    string
		wantErr error
	}{
		{"", canon.ErrInvalid},
		{root + "/a/..", canon.ErrInvalid},
		{root + "/up/../a", canon.ErrInvalid},
		{root + "\x00", canon.ErrInvalid},
		{root + "/missing", fs.ErrNotExist},
		{root + "/a/f", syscall.ENOTDIR},
		{root + "/dangle", fs.ErrNotExist},
	} {
		got, err := canon.Resolve(tt.root, "a")
		if !errors.Is(err, tt.wantErr) {
			t.Errorf("Resolve(%q, \"a\") = %q, %v, want %v", tt.root, got, err, tt.wantErr)
		}
		checkPathError(t, "Resolve", err, "resolve", tt.root)
	}
}

// TestResolveRootLink checks that a root reached through a symlink is
// kept as given: the result names the same inode through it.
func TestResolveRootLink(t *testing.T) {
	dir := testfs.New(t, "real/a/f", "alias => real")
	got, err := resolveRetrying(filepath.Join(dir, "alias"), "/a/../a/f")
	if want := filepath.Join(dir, "alias", "a", "f"); err != nil || got != want {
		t.Errorf("Resolve(alias, \"/a/../a/f\") = %q, %v, want %q", got, err, want)
	}
}

func TestResolveRelativeRoot(t *testing.T) {
	root := testfs.New(t, resolveTree()...)
	t.Chdir(root)
	for _, tt := range []struct{ root, name, want string }{
		{".", "a/up/../../a/f", "a/f"},
		{".", "/a/b/g", "a/b/g"},
		{"a", "up/f", "a/f"}, // a/up is ../.., which is the root "a"
		{"a", "/b/g", "a/b/g"},
		{"a/b", "..", "a/b"},
	} {
		got, err := resolveRetrying(tt.root, tt.name)
		if err != nil || got != tt.want {
			t.Errorf("Resolve(%q, %q) = %q, %v, want %q", tt.root, tt.name, got, err, tt.want)
		}
	}
}

// TestResolveJoinAgree checks Join against Resolve: where every
// component exists, SecureJoin's lexical walk and the kernel must reach
// the same place.
func TestResolveJoinAgree(t *testing.T) {
	root := testfs.New(t, resolveTree()...)
	for _, name := range hostileNames() {
		r, err := resolveRetrying(root, name)
		if err != nil {
			continue
		}
		j, err := canon.Join(root, name)
		if err != nil || j != r {
			t.Errorf("Join(root, %q) = %q, %v, want %q (Resolve)", name, j, err, r)
		}
	}
}

// TestResolveNoLeak checks that the root descriptor is closed on every
// path, errors included.
func TestResolveNoLeak(t *testing.T) {
	root := testfs.New(t, resolveTree()...)
	backends(t, func(t *testing.T) {
		before := testfs.OpenFDs(t)
		for range 20 {
			for _, tt := range resolveTests {
				canon.Resolve(root, tt.name)
			}
			canon.Resolve(root, "")
			canon.Resolve(root+"/missing", "a")
			canon.Resolve(root+"/a/f", "a")
		}
		if after := testfs.OpenFDs(t); after != before {
			t.Errorf("open descriptors: %d before, %d after: Resolve leaks", before, after)
		}
	})
}

// TestResolveErrorsUnwrapped checks that the errno inside the
// *fs.PathError is bare, so callers can compare it directly too.
func TestResolveErrorsUnwrapped(t *testing.T) {
	root := testfs.New(t, resolveTree()...)
	_, err := canon.Resolve(root, "dangle")
	var pe *fs.PathError
	if !errors.As(err, &pe) || pe.Err != syscall.ENOENT {
		t.Errorf("Resolve(root, \"dangle\") error = %#v, want *fs.PathError wrapping ENOENT", err)
	}
	if strings.Contains(err.Error(), root) {
		t.Errorf("Resolve error %q names the root, want the caller's name only", err)
	}
}
