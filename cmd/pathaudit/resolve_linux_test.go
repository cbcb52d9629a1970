package main

import (
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/pathguard/pathguard/confine"
	"github.com/pathguard/pathguard/internal/testfs"
)

// resolvers returns the backends this machine can run: the walk always,
// openat2 where the kernel has it (Linux 5.6+, not refused by seccomp).
func resolvers(t *testing.T) []string {
	t.Helper()
	names := []string{"walk"}
	r, err := confine.OpenRoot(t.TempDir(), confine.WithResolver(confine.ResolverOpenat2))
	if err != nil {
		t.Logf("openat2 backend unavailable, testing the walk only: %v", err)
		return names
	}
	r.Close()
	return append([]string{"openat2"}, names...)
}

// tree is the tree every resolve case runs on. ROOT is "root"; "outside"
// lies next to it, reachable only by escaping.
var tree = []string{
	"outside/secret=s",
	"root/a/f=hello",
	"root/a/b/",
	"root/rel => a/f",
	"root/chain => rel",
	"root/up => a/b/../../a/f",
	"root/dot => .",
	"root/out => ../outside/secret",
	"root/outdir => ../outside",
	"root/abs => /a/f",
	"root/dangling => nowhere",
	"root/loop1 => loop2",
	"root/loop2 => loop1",
	"root/nl\nname=x",
}

func TestResolve(t *testing.T) {
	for _, res := range resolvers(t) {
		t.Run(res, func(t *testing.T) {
			dir := testfs.New(t, tree...)
			root := filepath.Join(dir, "root")
			for _, tc := range []struct {
				path     string
				flags    []string
				want     string // the resolved path; "" when an error is wanted
				wantKind string // error_kind when an error is wanted
				reason   string
			}{
				{path: "a/f", want: "a/f", reason: "a plain file"},
				{path: ".", want: ".", reason: "the root itself"},
				{path: "a/b/..", want: "a", reason: "a real .. inside"},
				{path: "rel", want: "a/f", reason: "a relative link inside"},
				{path: "chain", want: "a/f", reason: "a chain of links"},
				{path: "up", want: "a/f", reason: "a link whose text climbs back down"},
				{path: "dot/dot/a", want: "a", reason: "a link to the root, twice"},
				{path: "a/b/../../rel", want: "a/f", reason: "dot-dots then a link"},
				{path: "..", wantKind: "escape", reason: "the parent of the root"},
				{path: "a/../../outside/secret", wantKind: "escape", reason: "climbing out through a real directory"},
				{path: "../root/a/f", wantKind: "escape", reason: "out and back in is still out (Beneath)"},
				{path: "/a/f", wantKind: "escape", reason: "an absolute name (Beneath)"},
				{path: "out", wantKind: "escape", reason: "a link leading outside"},
				{path: "outdir/secret", wantKind: "escape", reason: "a directory link leading outside"},
				{path: "outdir/", wantKind: "escape", reason: "link/ is still checked (CVE-2026-39822)"},
				{path: "a/../../", wantKind: "escape", reason: "../ with a trailing slash (CVE-2025-22873)"},
				{path: "abs", wantKind: "escape", reason: "an absolute link target (Beneath)"},
				{path: "dangling", wantKind: "not-exist", reason: "a link to nothing"},
				{path: "a/missing", wantKind: "not-exist", reason: "a missing component"},
				{path: "loop1", wantKind: "loop", reason: "a link loop"},
				{path: "a/f/", wantKind: "not-dir", reason: "a trailing slash on a file"},
				{path: "a\x00f", wantKind: "invalid", reason: "a NUL byte"},
				{path: strings.Repeat("x", 256), wantKind: "invalid", reason: "a component over NAME_MAX"},
				{path: strings.Repeat("a/", 2048), wantKind: "invalid", reason: "a name of PATH_MAX bytes"},
				{path: "rel", flags: []string{"--no-symlinks"}, wantKind: "symlink", reason: "any link is refused"},
				{path: "a/f", flags: []string{"--no-symlinks"}, want: "a/f", reason: "no link, nothing refused"},
				{path: "a/f", flags: []string{"--no-xdev"}, want: "a/f", reason: "no mount point crossed"},
				{path: "..", flags: []string{"--in-root"}, want: ".", reason: ".. at the root stays there"},
				{path: "../../a/f", flags: []string{"--in-root"}, want: "a/f", reason: "dot-dots are clamped at the root"},
				{path: "/a/f", flags: []string{"--in-root"}, want: "a/f", reason: "an absolute name starts at the root"},
				{path: "abs", flags: []string{"--in-root"}, want: "a/f", reason: "an absolute link starts at the root"},
				{path: "out", flags: []string{"--in-root"}, wantKind: "not-exist", reason: "../outside is read as /outside in the root"},
			} {
				args := append([]string{"resolve", root, tc.path, "--resolver", res}, tc.flags...)
				code, rep := runJSON(t, args...)
				if tc.wantKind == "" {
					if code != exitOK || !rep.Inside || rep.Resolved != tc.want || rep.Error != "" {
						t.Errorf("%s: pathaudit %q = %d, %+v; want 0, resolved %q", tc.reason, args, code, rep, tc.want)
						continue
					}
					if want := filepath.Join(root, filepath.FromSlash(tc.want)); rep.Absolute != want {
						t.Errorf("%s: pathaudit %q: absolute %q, want %q", tc.reason, args, rep.Absolute, want)
					}
					continue
				}
				if code != exitFail || rep.Inside || rep.Resolved != "" || rep.Absolute != "" || rep.ErrorKind != tc.wantKind || rep.Error == "" {
					t.Errorf("%s: pathaudit %q = %d, %+v; want 1, error_kind %q", tc.reason, args, code, rep, tc.wantKind)
				}
				if rep.Escape != (tc.wantKind == "escape") {
					t.Errorf("%s: pathaudit %q: escape %v, want %v", tc.reason, args, rep.Escape, tc.wantKind == "escape")
				}
				if rep.Backend != res {
					t.Errorf("%s: pathaudit %q: backend %q, want %q", tc.reason, args, rep.Backend, res)
				}
			}
		})
	}
}

// TestResolveText checks the text output and that flags may come before,
// between or after the arguments.
func TestResolveText(t *testing.T) {
	dir := testfs.New(t, tree...)
	root := filepath.Join(dir, "root")
	for _, args := range [][]string{
		{"resolve", root, "chain"},
		{"resolve", "--resolver=walk", root, "chain"},
		{"resolve", root, "--resolver", "walk", "chain"},
		{"resolve", "-no-xdev", root, "chain", "--resolver", "walk"},
		{"resolve", root, "--", "chain"},
	} {
		code, out, errOut := runCmd(t, args...)
		if code != exitOK || errOut != "" {
			t.Errorf("pathaudit %q = %d, stderr %q; want 0 and no stderr", args, code, errOut)
		}
		for _, want := range []string{"resolved: a/f\n", "absolute: " + filepath.Join(root, "a", "f") + "\n"} {
			if !strings.Contains(out, want) {
				t.Errorf("pathaudit %q: stdout %q lacks %q", args, out, want)
			}
		}
	}

	// An escape: exit 1, the error and "escape: true" in the report.
	code, out, _ := runCmd(t, "resolve", root, "out")
	if code != exitFail || !strings.Contains(out, "escape:   true\n") || !strings.Contains(out, "error:") || strings.Contains(out, "resolved:") {
		t.Errorf("pathaudit resolve ROOT out = %d, stdout %q; want 1 and an escape report", code, out)
	}

	// A name with a newline is shown quoted, never raw.
	code, out, _ = runCmd(t, "resolve", root, "nl\nname")
	if code != exitOK || !strings.Contains(out, `resolved: "nl\nname"`) {
		t.Errorf("pathaudit resolve ROOT %q = %d, stdout %q; want 0 and a quoted name", "nl\nname", code, out)
	}
}

// TestResolveBadRoot checks that a ROOT that cannot be opened is an error
// of resolution (1), not of usage.
func TestResolveBadRoot(t *testing.T) {
	dir := testfs.New(t, tree...)
	for _, tc := range []struct {
		root, kind string
	}{
		{filepath.Join(dir, "missing"), "not-exist"},
		{filepath.Join(dir, "root", "a", "f"), "not-dir"},
	} {
		code, rep := runJSON(t, "resolve", tc.root, "x")
		if code != exitFail || rep.Inside || rep.ErrorKind != tc.kind || rep.Escape {
			t.Errorf("pathaudit resolve %q x = %d, %+v; want 1, error_kind %q", tc.root, code, rep, tc.kind)
		}
	}
}

// TestResolveProc runs resolve on the system's own trees: /proc's magic
// links are never followed, and /proc is a mount point that --no-xdev
// refuses to cross.
func TestResolveProc(t *testing.T) {
	var rootSt, procSt syscall.Stat_t
	if syscall.Stat("/", &rootSt) != nil || syscall.Stat("/proc/self", &procSt) != nil {
		t.Skip("no /proc")
	}
	for _, res := range resolvers(t) {
		for _, tc := range []struct {
			root, path string
			flags      []string
			wantKind   string
		}{
			{root: "/proc", path: "self/fd/0", wantKind: "loop"},
			{root: "/proc", path: "self/root", wantKind: "loop"},
			{root: "/proc", path: "self/cwd", wantKind: "loop"},
			{root: "/proc", path: "self/root/etc", flags: []string{"--in-root"}, wantKind: "loop"},
			{root: "/", path: "proc/self", flags: []string{"--no-xdev"}, wantKind: "cross-device"},
		} {
			if tc.wantKind == "cross-device" && rootSt.Dev == procSt.Dev {
				continue // /proc is not a mount of its own here
			}
			args := append([]string{"resolve", tc.root, tc.path, "--resolver", res}, tc.flags...)
			code, rep := runJSON(t, args...)
			if code != exitFail || rep.Inside || rep.Escape || rep.ErrorKind != tc.wantKind {
				t.Errorf("pathaudit %q = %d, %+v; want 1, no escape, error_kind %q", args, code, rep, tc.wantKind)
			}
		}
	}
	// Without --no-xdev, the same name resolves.
	if code, rep := runJSON(t, "resolve", "/", "proc/self/.."); code != exitOK || rep.Resolved != "proc" {
		t.Errorf("pathaudit resolve / proc/self/.. = %d, %+v; want 0, resolved \"proc\"", code, rep)
	}
}
