//go:build linux && !pathguard_osroot

package confine_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/pathguard/pathguard/confine"
	"github.com/pathguard/pathguard/internal/testfs"
)

// TestProcMagicLinks checks that /proc magic links (fd/N, exe, cwd, root,
// and the same under task/<tid>/) are never followed, in either backend
// or mode, while procfs's plain links (self, thread-self, mounts) are
// ordinary links. Lstat still describes a magic link itself.
func TestProcMagicLinks(t *testing.T) {
	if _, err := os.Stat("/proc/self/exe"); err != nil {
		t.Skipf("no procfs: %v", err)
	}
	cases := []struct {
		root    string
		op      string
		open    string
		want    string // "file", "dir" or "link"
		wantErr error
		reason  string
	}{
		{root: "/proc/self", open: "root", wantErr: syscall.ELOOP, reason: "root is a magic link"},
		{root: "/proc/self", open: "root/", wantErr: syscall.ELOOP, reason: `"root/" too`},
		{root: "/proc/self", open: "root/etc/passwd", wantErr: syscall.ELOOP, reason: "a magic link in the middle"},
		{root: "/proc/self", open: "cwd", wantErr: syscall.ELOOP, reason: "cwd is a magic link"},
		{root: "/proc/self", open: "exe", wantErr: syscall.ELOOP, reason: "exe is a magic link"},
		{root: "/proc/self", open: "fd/0", wantErr: syscall.ELOOP, reason: "fd/N are magic links"},
		{root: "/proc/self", open: "task/../exe", wantErr: syscall.ELOOP, reason: "after a .."},
		{root: "/proc/self", op: opLstat, open: "exe", want: "link", reason: "Lstat describes the magic link itself"},
		{root: "/proc/self", op: opStat, open: "exe", wantErr: syscall.ELOOP, reason: "Stat would follow it"},
		{root: "/proc/self", op: opStat, open: "fd", want: "dir", reason: "fd/ itself is a directory"},
		{root: "/proc/self", op: opStat, open: "status", want: "file", reason: "a plain file"},
		{root: "/proc", op: opStat, open: "self", want: "dir", reason: "self is a plain procfs link"},
		{root: "/proc", op: opStat, open: "thread-self", want: "dir", reason: "thread-self is a plain procfs link"},
		{root: "/proc", op: opStat, open: "mounts", want: "file", reason: "mounts is a plain link to self/mounts"},
		{root: "/proc", op: opStat, open: "self/status", want: "file", reason: "through the plain self link"},
		{root: "/proc", open: "self/root/", wantErr: syscall.ELOOP, reason: "a magic link reached through self"},
		{root: "/proc", open: "self/cwd", wantErr: syscall.ELOOP, reason: "cwd through self"},
		{root: "/proc", open: "self/exe", wantErr: syscall.ELOOP, reason: "exe through self"},
		{root: "/proc", open: "self/fd/0", wantErr: syscall.ELOOP, reason: "fd/0 through self"},
		{root: "/proc", open: "thread-self/root", wantErr: syscall.ELOOP, reason: "root under task/<tid>/"},
		{root: "/proc", open: "thread-self/fd/1", wantErr: syscall.ELOOP, reason: "fd under task/<tid>/"},
		{root: "/proc", op: opStat, open: "thread-self/status", want: "file", reason: "a plain file under task/<tid>/"},
	}
	forEachBackendMode(t, backends, func(t *testing.T, m mode, b backend) {
		for _, c := range cases {
			r, err := confine.OpenRoot(c.root, openOpts(m, b)...)
			if err != nil {
				t.Fatal(err)
			}
			var got string
			switch c.op {
			case opStat, opLstat:
				stat := r.Stat
				if c.op == opLstat {
					stat = r.Lstat
				}
				var fi fs.FileInfo
				if fi, err = stat(c.open); err == nil {
					got = kindOf(fi.Mode())
				}
			default:
				var f *os.File
				if f, err = r.Open(c.open); err == nil {
					fi, _ := f.Stat()
					got = kindOf(fi.Mode())
					f.Close()
				}
			}
			r.Close()
			if c.wantErr != nil {
				if !errors.Is(err, c.wantErr) {
					t.Errorf("%s: %s(%q) = %q, %v, want %v (%s)", c.root, c.op, c.open, got, err, c.wantErr, c.reason)
				}
				continue
			}
			if err != nil || got != c.want {
				t.Errorf("%s: %s(%q) = %q, %v, want %q (%s)", c.root, c.op, c.open, got, err, c.want, c.reason)
			}
		}
	})
}

// TestLinkToProcIsEscape: a link inside an ordinary root that points at
// /proc/self/root is an absolute link like any other (an escape; InRoot
// reads it under the root), and a relative one up to /proc escapes too.
func TestLinkToProcIsEscape(t *testing.T) {
	dir := testfs.New(t, "root/f=F")
	root := filepath.Join(dir, "root")
	up := "."
	for d := filepath.Dir(root); d != "/"; d = filepath.Dir(d) {
		up += "/.."
	}
	testfs.Make(t, root, "abs => /proc/self/root/etc", "rel => "+up+"/../proc/self/root/etc", "fd => /proc/self/fd/0")
	forEachBackendMode(t, backends, func(t *testing.T, m mode, b backend) {
		r, err := confine.OpenRoot(root, openOpts(m, b)...)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		for _, name := range []string{"abs", "rel", "fd", "abs/passwd"} {
			f, err := r.Open(name)
			if err == nil {
				f.Close()
			}
			var want error = confine.ErrEscape
			if m.inRoot {
				want = fs.ErrNotExist // re-rooted: <root>/proc/... does not exist
			}
			if !errors.Is(err, want) {
				t.Errorf("Open(%q) = %v, want %v", name, err, want)
			}
		}
	})
}
