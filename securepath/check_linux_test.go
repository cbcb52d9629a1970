package securepath

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/pathguard/pathguard/canon"
)

// verdictCases build real trees with real owners and modes. base is a
// fresh directory owned by the test's user, mode 0755, below secure
// ancestors. bad is the first directory Check must name, relative to base
// ("" for secure).
var verdictCases = []struct {
	name     string
	needRoot bool
	build    func(t *testing.T, base string) (target string, p *Policy)
	bad      string
	reason   string // a word the reason must hold, for the report reader
}{
	{
		name: "private dir",
		build: func(t *testing.T, base string) (string, *Policy) {
			mkdir(t, base+"/d", 0o700, -1, -1)
			return base + "/d", nil
		},
	},
	{
		name: "world-writable target",
		build: func(t *testing.T, base string) (string, *Policy) {
			mkdir(t, base+"/d", 0o777, -1, -1)
			return base + "/d", nil
		},
		bad: "d", reason: "others",
	},
	{
		name: "world-writable ancestor",
		build: func(t *testing.T, base string) (string, *Policy) {
			mkdir(t, base+"/w", 0o777, -1, -1)
			mkdir(t, base+"/w/d", 0o700, -1, -1)
			return base + "/w/d", nil
		},
		bad: "w", reason: "others",
	},
	{
		name: "sticky ancestor, my entry",
		build: func(t *testing.T, base string) (string, *Policy) {
			mkdir(t, base+"/tmp", 0o777|fs.ModeSticky, -1, -1)
			mkdir(t, base+"/tmp/mine", 0o700, -1, -1)
			return base + "/tmp/mine", nil
		},
	},
	{
		name: "sticky target",
		build: func(t *testing.T, base string) (string, *Policy) {
			mkdir(t, base+"/tmp", 0o777|fs.ModeSticky, -1, -1)
			return base + "/tmp", nil
		},
		bad: "tmp", reason: "sticky does not help",
	},
	{
		name: "sticky ancestor, untrusted entry", needRoot: true,
		build: func(t *testing.T, base string) (string, *Policy) {
			mkdir(t, base+"/tmp", 0o777|fs.ModeSticky, 0, 0)
			mkdir(t, base+"/tmp/theirs", 0o755, nobody, nobody)
			return base + "/tmp/theirs", nil
		},
		bad: "tmp", reason: "uid 65534",
	},
	{
		name: "sticky ancestor, untrusted entry, trusted by policy", needRoot: true,
		build: func(t *testing.T, base string) (string, *Policy) {
			mkdir(t, base+"/tmp", 0o777|fs.ModeSticky, 0, 0)
			mkdir(t, base+"/tmp/theirs", 0o755, nobody, nobody)
			return base + "/tmp/theirs", &Policy{TrustedUIDs: []int{nobody}}
		},
	},
	{
		name: "untrusted owner", needRoot: true,
		build: func(t *testing.T, base string) (string, *Policy) {
			mkdir(t, base+"/d", 0o755, nobody, nobody)
			mkdir(t, base+"/d/e", 0o700, 0, 0)
			return base + "/d/e", nil
		},
		bad: "d", reason: "owned by uid 65534",
	},
	{
		name: "group-writable ancestor, untrusted group",
		build: func(t *testing.T, base string) (string, *Policy) {
			mkdir(t, base+"/g", 0o775, -1, -1)
			mkdir(t, base+"/g/d", 0o700, -1, -1)
			return base + "/g/d", nil
		},
		bad: "g", reason: "group",
	},
	{
		name: "group-writable ancestor, trusted group",
		build: func(t *testing.T, base string) (string, *Policy) {
			mkdir(t, base+"/g", 0o775, -1, -1)
			mkdir(t, base+"/g/d", 0o700, -1, -1)
			return base + "/g/d", &Policy{TrustedGIDs: []int{os.Getegid()}}
		},
	},
	{
		name: "group-writable target, other group trusted", needRoot: true,
		build: func(t *testing.T, base string) (string, *Policy) {
			mkdir(t, base+"/g", 0o770, 0, nobody)
			return base + "/g", &Policy{TrustedGIDs: []int{0}}
		},
		bad: "g", reason: "group 65534",
	},
	{
		name: "group-writable target, its group trusted", needRoot: true,
		build: func(t *testing.T, base string) (string, *Policy) {
			mkdir(t, base+"/g", 0o770, 0, nobody)
			return base + "/g", &Policy{TrustedGIDs: []int{nobody}}
		},
	},
	{
		name: "access ACL",
		build: func(t *testing.T, base string) (string, *Policy) {
			mkdir(t, base+"/acl", 0o755, -1, -1)
			mkdir(t, base+"/acl/d", 0o700, -1, -1)
			setACL(t, base+"/acl", "system.posix_acl_access", nobody)
			return base + "/acl/d", nil
		},
		bad: "acl", reason: "ACL",
	},
	{
		name: "default ACL only",
		build: func(t *testing.T, base string) (string, *Policy) {
			mkdir(t, base+"/acl", 0o755, -1, -1)
			setACL(t, base+"/acl", "system.posix_acl_default", nobody)
			return base + "/acl", nil
		},
		reason: "default ACL",
	},
	{
		name: "symlink to an insecure dir",
		build: func(t *testing.T, base string) (string, *Policy) {
			mkdir(t, base+"/w", 0o777, -1, -1)
			mkdir(t, base+"/safe", 0o700, -1, -1)
			if err := os.Symlink("../w", base+"/safe/l"); err != nil {
				t.Fatal(err)
			}
			return base + "/safe/l", nil
		},
		bad: "w", reason: "others",
	},
	{
		name: "absolute symlink through sticky dir to a private dir",
		build: func(t *testing.T, base string) (string, *Policy) {
			mkdir(t, base+"/tmp", 0o777|fs.ModeSticky, -1, -1)
			mkdir(t, base+"/priv", 0o700, -1, -1)
			if err := os.Symlink(base+"/priv", base+"/tmp/l"); err != nil {
				t.Fatal(err)
			}
			return base + "/tmp/l", nil
		},
	},
	{
		name: "untrusted symlink in sticky dir", needRoot: true,
		build: func(t *testing.T, base string) (string, *Policy) {
			mkdir(t, base+"/tmp", 0o777|fs.ModeSticky, 0, 0)
			mkdir(t, base+"/priv", 0o700, 0, 0)
			if err := os.Symlink("../priv", base+"/tmp/l"); err != nil {
				t.Fatal(err)
			}
			if err := os.Lchown(base+"/tmp/l", nobody, nobody); err != nil {
				t.Fatal(err)
			}
			return base + "/tmp/l", nil
		},
		bad: "tmp", reason: "symlink",
	},
	{
		name: "untrusted symlink in a private dir", needRoot: true,
		build: func(t *testing.T, base string) (string, *Policy) {
			mkdir(t, base+"/priv", 0o700, 0, 0)
			if err := os.Symlink(".", base+"/priv/l"); err != nil {
				t.Fatal(err)
			}
			if err := os.Lchown(base+"/priv/l", nobody, nobody); err != nil {
				t.Fatal(err)
			}
			// Nobody can change a link in a directory they cannot write.
			return base + "/priv/l", nil
		},
	},
	{
		name: "dotdot out of an insecure dir",
		build: func(t *testing.T, base string) (string, *Policy) {
			mkdir(t, base+"/w", 0o777, -1, -1)
			mkdir(t, base+"/d", 0o700, -1, -1)
			return base + "/w/../d", nil
		},
		bad: "w", reason: "others",
	},
}

func TestCheckVerdicts(t *testing.T) {
	for _, tc := range verdictCases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.needRoot {
				requireRoot(t)
			}
			base := openTempDir(t)
			target, p := tc.build(t, base)
			rep, err := Check(target, p)
			if err != nil {
				t.Fatalf("Check(%q) error %v", target, err)
			}
			t.Logf("report:\n%s", rep)
			if base, err = filepath.EvalSymlinks(base); err != nil {
				t.Fatal(err)
			}
			err = rep.Err()
			if tc.bad == "" {
				if err != nil {
					t.Fatalf("Check(%q).Err() = %v, want nil", target, err)
				}
			} else {
				if !errors.Is(err, ErrInsecure) {
					t.Fatalf("Check(%q).Err() = %v, want ErrInsecure", target, err)
				}
				var pe *fs.PathError
				if !errors.As(err, &pe) || pe.Path != base+"/"+tc.bad {
					t.Fatalf("Check(%q).Err() = %v, want it to name %s", target, err, base+"/"+tc.bad)
				}
			}
			if tc.reason != "" && !reportHas(rep, tc.reason) {
				t.Errorf("Check(%q): no reason mentions %q:\n%s", target, tc.reason, rep)
			}
			// Every entry is a directory, named once, and the first one
			// is "/".
			seen := map[string]bool{}
			for _, e := range rep.Entries {
				if !e.Mode.IsDir() || seen[e.Path] {
					t.Errorf("entry %+v: not a directory or repeated", e)
				}
				seen[e.Path] = true
			}
			if rep.Entries[0].Path != "/" {
				t.Errorf("first entry %q, want /", rep.Entries[0].Path)
			}
		})
	}
}

// reportHas looks for a reason in the report. It is only about what the
// reader is told; verdicts are asserted with errors.Is and paths.
func reportHas(rep *Report, word string) bool {
	for _, e := range rep.Entries {
		if strings.Contains(e.Reason, word) {
			return true
		}
	}
	return false
}

func TestCheckDefaultACLReported(t *testing.T) {
	base := openTempDir(t)
	mkdir(t, base+"/acl", 0o755, -1, -1)
	setACL(t, base+"/acl", "system.posix_acl_default", nobody)
	rep, err := Check(base+"/acl", nil)
	if err != nil {
		t.Fatal(err)
	}
	last := rep.Entries[len(rep.Entries)-1]
	if !last.DefaultACL || last.Verdict != Secure {
		t.Fatalf("entry %+v: want DefaultACL and Secure", last)
	}
}

func TestCheckErrors(t *testing.T) {
	base := openTempDir(t)
	mkdir(t, base+"/d", 0o700, -1, -1)
	if err := os.WriteFile(base+"/d/f", nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, l := range [][2]string{{"a", "b"}, {"b", "a"}, {"self", "self"}} {
		if err := os.Symlink(l[1], base+"/d/"+l[0]); err != nil {
			t.Fatal(err)
		}
	}
	// A chain of 41 links: c0 -> c1 -> ... -> c40 -> d. Starting at c1
	// takes 40 hops (the limit), at c0 41.
	for i := 0; i <= 40; i++ {
		next := fmt.Sprintf("c%d", i+1)
		if i == 40 {
			next = "."
		}
		if err := os.Symlink(next, fmt.Sprintf("%s/d/c%d", base, i)); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		path string
		want error
	}{
		{"", canon.ErrInvalid},
		{"relative/path", canon.ErrInvalid},
		{"d", canon.ErrInvalid},
		{base + "/d/\x00", canon.ErrInvalid},
		{base + "/d/missing", fs.ErrNotExist},
		{base + "/d/missing/x", fs.ErrNotExist},
		{base + "/d/f", syscall.ENOTDIR},
		{base + "/d/f/x", syscall.ENOTDIR},
		{base + "/d/a", syscall.ELOOP},
		{base + "/d/self/x", syscall.ELOOP},
		{base + "/d/c0", syscall.ELOOP},
		{"/" + strings.Repeat("x", 256), canon.ErrInvalid},
	} {
		rep, err := Check(tc.path, nil)
		if !errors.Is(err, tc.want) || rep != nil {
			t.Errorf("Check(%q) = %v, %v; want nil, %v", tc.path, rep, err, tc.want)
		}
		var pe *fs.PathError
		if err != nil && !errors.As(err, &pe) {
			t.Errorf("Check(%q) error %T, want *fs.PathError", tc.path, err)
		}
	}
	// 40 hops are allowed.
	rep, err := Check(base+"/d/c1", nil)
	if err != nil || rep.Err() != nil {
		t.Fatalf("Check(c1, 40 hops) = %v, %v", err, rep.Err())
	}
}

// TestCheckUnreadableAncestor: a directory the caller cannot search is an
// error (or an insecure verdict), never "secure".
func TestCheckUnreadableAncestor(t *testing.T) {
	base := openTempDir(t)
	mkdir(t, base+"/locked", 0o700, -1, -1)
	mkdir(t, base+"/locked/d", 0o755, -1, -1)
	if os.Geteuid() != 0 {
		chmod(t, base+"/locked", 0)
		t.Cleanup(func() { os.Chmod(base+"/locked", 0o700) })
		_, err := Check(base+"/locked/d", nil)
		if !errors.Is(err, fs.ErrPermission) {
			t.Fatalf("Check through an unsearchable dir = %v, want EACCES", err)
		}
		return
	}
	// As root, ask as nobody: root-owned 0700 is unsearchable for them.
	if got := runAs(t, "check", base+"/locked/d"); got != "EACCES" {
		t.Fatalf("Check as nobody through a 0700 root dir: %s, want EACCES", got)
	}
	// Control: the same helper does see a secure directory it can reach.
	mkdir(t, base+"/open", 0o755, -1, -1)
	if got := runAs(t, "check", base+"/open"); got != "SECURE" {
		t.Fatalf("Check as nobody of a 0755 root dir: %s, want SECURE", got)
	}
}

func TestReportErrNeverSecureByDefault(t *testing.T) {
	var nilRep *Report
	for _, r := range []*Report{nilRep, {}, {Entries: []Entry{{Path: "/"}}}} {
		if err := r.Err(); !errors.Is(err, ErrInsecure) {
			t.Errorf("(%+v).Err() = %v, want ErrInsecure", r, err)
		}
	}
}
