package main

import (
	"os"
	"path/filepath"
	"strconv"
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
	"root/nest => deep/l1",
	"root/deep/l1 => l2/x",
	"root/deep/l2 => ../../..",
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
				missing  string // the tail that does not exist yet
				wantKind string // error_kind when an error is wanted
				via      string // escape_via as "kind link -> target"
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
				{path: "..", wantKind: "escape", via: "dotdot", reason: "the parent of the root"},
				{path: "a/../../outside/secret", wantKind: "escape", via: "dotdot", reason: "climbing out through a real directory"},
				{path: "../root/a/f", wantKind: "escape", via: "dotdot", reason: "out and back in is still out (Beneath)"},
				{path: "/a/f", wantKind: "escape", via: "absolute", reason: "an absolute name (Beneath)"},
				{path: "out", wantKind: "escape", via: "link out -> ../outside/secret", reason: "a link leading outside"},
				{path: "outdir/secret", wantKind: "escape", via: "link outdir -> ../outside", reason: "a directory link leading outside"},
				{path: "outdir/", wantKind: "escape", via: "link outdir -> ../outside", reason: "link/ is still checked (CVE-2026-39822)"},
				{path: "a/../../", wantKind: "escape", via: "dotdot", reason: "../ with a trailing slash (CVE-2025-22873)"},
				{path: "abs", wantKind: "escape", via: "link abs -> /a/f", reason: "an absolute link target (Beneath)"},
				{path: "dot/a/../..", wantKind: "escape", via: "dotdot", reason: "a .. of PATH after a link's text is used up"},
				{path: "nest/x", wantKind: "escape", via: "link deep/l2 -> ../../..", reason: "the innermost link whose text holds the .."},
				{path: "dangling", want: ".", missing: "nowhere", reason: "a link to nothing: creating it makes its target"},
				{path: "a/missing", want: "a", missing: "missing", reason: "a missing component"},
				{path: "a/new/deeper/f", want: "a", missing: "new/deeper/f", reason: "a future upload, several levels deep"},
				{path: "rel/x", wantKind: "not-dir", reason: "a file where a directory is needed is no future upload"},
				{path: "a/new/../../..", wantKind: "not-exist", reason: "a .. in the missing tail: no verdict"},
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
				{path: "out", flags: []string{"--in-root"}, want: ".", missing: "outside/secret", reason: "../outside is read as /outside in the root"},
			} {
				args := append([]string{"resolve", root, tc.path, "--resolver", res}, tc.flags...)
				code, rep := runJSON(t, args...)
				if tc.wantKind == "" {
					if code != exitOK || !rep.Inside || rep.Resolved != tc.want || rep.Missing != tc.missing || rep.Error != "" {
						t.Errorf("%s: pathaudit %q = %d, %+v; want 0, resolved %q, missing %q", tc.reason, args, code, rep, tc.want, tc.missing)
						continue
					}
					if want := filepath.Join(root, filepath.FromSlash(tc.want), filepath.FromSlash(tc.missing)); rep.Absolute != want {
						t.Errorf("%s: pathaudit %q: absolute %q, want %q", tc.reason, args, rep.Absolute, want)
					}
					continue
				}
				if code != exitFail || rep.Inside || rep.Resolved != "" || rep.Absolute != "" || rep.ErrorKind != tc.wantKind || rep.Error == "" {
					t.Errorf("%s: pathaudit %q = %d, %+v; want 1, error_kind %q", tc.reason, args, code, rep, tc.wantKind)
				}
				var via string
				if v := rep.EscapeVia; v != nil {
					via = v.Kind
					if v.Kind == "link" {
						via += " " + v.Link + " -> " + v.Target
					}
				}
				if via != tc.via {
					t.Errorf("%s: pathaudit %q: escape_via %q, want %q", tc.reason, args, via, tc.via)
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

// TestResolveBadRoot checks that a ROOT that cannot be opened is an I/O
// error (2): no verdict on PATH.
func TestResolveBadRoot(t *testing.T) {
	dir := testfs.New(t, tree...)
	for _, tc := range []struct {
		root, kind string
	}{
		{filepath.Join(dir, "missing"), "not-exist"},
		{filepath.Join(dir, "root", "a", "f"), "not-dir"},
	} {
		code, rep := runJSON(t, "resolve", tc.root, "x")
		if code != exitError || rep.Inside || rep.ErrorKind != tc.kind || rep.Escape {
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

// TestResolveTrace: --trace lists every step of the walk, in JSON and in
// text, whatever the outcome, and the mount crossed on the way to /proc.
func TestResolveTrace(t *testing.T) {
	dir := testfs.New(t, tree...)
	root := filepath.Join(dir, "root")
	for _, tc := range []struct {
		root, path string
		want       string // the steps, "kind:name" each
	}{
		{root, "chain", "link:chain link:rel enter:a enter:f"},
		{root, "a/b/../f", "enter:a enter:b dotdot:.. enter:f"},
		{root, "nest/x", "link:nest enter:deep link:l1 link:l2 dotdot:.. dotdot:.."},
		{root, "a/new/f", "enter:a missing:new"},
		{"/", "proc/self", "enter:proc mount:proc link:self enter:" + strconv.Itoa(os.Getpid())},
	} {
		if tc.root == "/" {
			var rootSt, procSt syscall.Stat_t
			if syscall.Stat("/", &rootSt) != nil || syscall.Stat("/proc", &procSt) != nil || rootSt.Dev == procSt.Dev {
				continue // no /proc mount of its own here
			}
		}
		for _, res := range resolvers(t) {
			_, rep := runJSON(t, "resolve", tc.root, tc.path, "--trace", "--resolver", res)
			var got []string
			for _, s := range rep.Trace {
				got = append(got, s.Kind+":"+s.Name)
			}
			if strings.Join(got, " ") != tc.want {
				t.Errorf("pathaudit resolve %s %s --trace --resolver %s: steps %q, want %q", tc.root, tc.path, res, strings.Join(got, " "), tc.want)
			}
		}
	}
	code, out, _ := runCmd(t, "resolve", root, "nest/x", "--trace")
	for _, want := range []string{"trace:\n", "link     l2 -> ../../.., in deep\n", ".. at .: leaves ROOT\n", "via:      link deep/l2 -> ../../..\n"} {
		if code != exitFail || !strings.Contains(out, want) {
			t.Errorf("pathaudit resolve ROOT nest/x --trace = %d, stdout %q; want 1 and %q", code, out, want)
		}
	}
	// Without --trace, no steps are shown.
	if _, rep := runJSON(t, "resolve", root, "chain"); rep.Trace != nil {
		t.Errorf("pathaudit resolve ROOT chain without --trace: trace %+v", rep.Trace)
	}
}
