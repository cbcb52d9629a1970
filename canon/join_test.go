package canon_test

import (
	"errors"
	"io/fs"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/pathguard/pathguard/canon"
	"github.com/pathguard/pathguard/internal/testfs"
)

// hostileTree is a root into which an attacker has planted every kind of
// symlink: upward, absolute, into the host's /etc, chains, loops,
// dangling. Join and Resolve run against it.
var hostileTree = []string{
	"a/",
	"a/f=inside",
	"a/b/",
	"a/b/g=deep",
	"up => ..",
	"a/up => ../..",
	"a/upup => ../../../../../..",
	"abs => /a",
	"absf => /a/f",
	"a/etcpw => /etc/passwd",
	"a/hostetc => ../../../../../../etc",
	"selfabs => /selfabs",
	"c1 => c2",
	"c2 => a/c3",
	"a/c3 => ../c4",
	"c4 => /absf",
	"dir => a/b/",
	"loop1 => loop2",
	"loop2 => loop1",
	"self => self",
	"dangle => nowhere",
	"dangleabs => /nowhere/x",
}

var joinTests = []struct {
	name    string
	want    string // relative to the root, slash-separated
	wantErr error
	reason  string
}{
	{name: "a/f", want: "a/f", reason: "plain file"},
	{name: ".", want: ".", reason: "the root"},
	{name: "/", want: ".", reason: "absolute root"},
	{name: "..", want: ".", reason: "\"..\" at the root stays there"},
	{name: "../../../etc/passwd", want: "etc/passwd", reason: "\"..\" escape clamped"},
	{name: "/etc/passwd", want: "etc/passwd", reason: "absolute name re-rooted"},
	{name: "a/../../a/f", want: "a/f", reason: "\"..\" past the root and back"},
	{name: "a/up/a/f", want: "a/f", reason: "upward link clamped"},
	{name: "up/up/a/b/g", want: "a/b/g", reason: "upward links at the root"},
	{name: "a/upup/etc/passwd", want: "etc/passwd", reason: "deep upward link clamped"},
	{name: "a/hostetc/passwd", want: "etc/passwd", reason: "relative link to the host's /etc clamped"},
	{name: "a/etcpw", want: "etc/passwd", reason: "absolute link to the host's /etc/passwd re-rooted"},
	{name: "abs/f", want: "a/f", reason: "absolute link to a directory"},
	{name: "absf", want: "a/f", reason: "absolute link to a file"},
	{name: "c1", want: "a/f", reason: "chain of relative and absolute links"},
	{name: "dir/g", want: "a/b/g", reason: "link with a trailing slash"},
	{name: "a/up/../../a/b/g", want: "a/b/g", reason: "\"..\" after an upward link"},
	{name: "dangle", want: "nowhere", reason: "dangling link: its target, not an error"},
	{name: "dangleabs", want: "nowhere/x", reason: "dangling absolute link re-rooted"},
	{name: "nonexist/../a/f", want: "a/f", reason: "missing components are names"},
	{name: "a/f/..", want: "a", reason: "a file taken as a name"},
	{name: "a//b/./g/", want: "a/b/g", reason: "unclean"},
	{name: "loop1", wantErr: syscall.ELOOP, reason: "two-link loop"},
	{name: "self/x", wantErr: syscall.ELOOP, reason: "self loop"},
	{name: "selfabs/x", wantErr: syscall.ELOOP, reason: "absolute self loop: /selfabs is the link itself"},
}

func TestJoin(t *testing.T) {
	root := testfs.New(t, hostileTree...)
	for _, tt := range joinTests {
		got, err := canon.Join(root, tt.name)
		if tt.wantErr != nil {
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("Join(root, %q) = %q, %v, want %v (%s)", tt.name, got, err, tt.wantErr, tt.reason)
			}
			checkPathError(t, "Join", err, "join", tt.name)
			continue
		}
		want := filepath.Join(root, filepath.FromSlash(tt.want))
		if err != nil || got != want {
			t.Errorf("Join(root, %q) = %q, %v, want %q (%s)", tt.name, got, err, want, tt.reason)
		}
	}
}

// TestJoinContained checks the one property Join promises whatever the
// tree: its result lies within the root, for names built from every link
// in the hostile tree.
func TestJoinContained(t *testing.T) {
	root := testfs.New(t, hostileTree...)
	for _, name := range hostileNames() {
		got, err := canon.Join(root, name)
		if err != nil {
			if !errors.Is(err, syscall.ELOOP) {
				t.Errorf("Join(root, %q) = %q, %v, want a path or ELOOP", name, got, err)
			}
			continue
		}
		if !canon.Within(root, got) {
			t.Errorf("Join(root, %q) = %q, outside root %q", name, got, root)
		}
	}
}

// hostileNames returns names of up to three components taken from the
// hostile tree, absolute and relative, with and without a trailing slash.
func hostileNames() []string {
	comps := []string{"a", "b", "f", "g", "..", ".", "up", "upup", "abs", "absf", "hostetc", "etcpw", "c1", "dir", "dangle", "loop1", "etc"}
	names := []string{"/", "."}
	level := []string{""}
	for range 3 {
		var next []string
		for _, p := range level {
			for _, c := range comps {
				if p != "" {
					c = p + "/" + c
				}
				next = append(next, c)
				names = append(names, c, "/"+c, c+"/")
			}
		}
		level = next
	}
	return names
}

func TestJoinInvalid(t *testing.T) {
	root := testfs.New(t, hostileTree...)
	for _, tt := range invalidPaths {
		got, err := canon.Join(root, tt.p)
		if !errors.Is(err, canon.ErrInvalid) {
			t.Errorf("Join(root, %q) = %q, %v, want ErrInvalid (%s)", tt.p, got, err, tt.reason)
		}
		checkPathError(t, "Join", err, "join", tt.p)
	}
	for _, bad := range []string{"", root + "/..", root + "/a/..", root + "/../" + filepath.Base(root), "a\x00", strings.Repeat("r", 256)} {
		got, err := canon.Join(bad, "a/f")
		if !errors.Is(err, canon.ErrInvalid) {
			t.Errorf("Join(%q, \"a/f\") = %q, %v, want ErrInvalid", bad, got, err)
		}
		checkPathError(t, "Join", err, "join", bad)
	}
}

// TestJoinRelativeRoot checks that a relative root gives a relative
// result, still within it.
func TestJoinRelativeRoot(t *testing.T) {
	root := testfs.New(t, hostileTree...)
	t.Chdir(root)
	for _, tt := range []struct{ root, name, want string }{
		{".", "a/up/../../a/f", "a/f"},
		{".", "/etc/passwd", "etc/passwd"},
		{"a", "up/f", "a/f"}, // a/up is ../.., which is the root "a"
		{"a", "../../b/g", "a/b/g"},
	} {
		got, err := canon.Join(tt.root, tt.name)
		if err != nil || got != tt.want {
			t.Errorf("Join(%q, %q) = %q, %v, want %q", tt.root, tt.name, got, err, tt.want)
		}
	}
}

// checkPathError checks that err is a *fs.PathError with the given Op and
// Path.
func checkPathError(t *testing.T, fn string, err error, op, path string) {
	t.Helper()
	var pe *fs.PathError
	if !errors.As(err, &pe) || pe.Op != op || pe.Path != path {
		t.Errorf("%s error = %#v, want *fs.PathError{Op: %q, Path: %q}", fn, err, op, path)
	}
}
