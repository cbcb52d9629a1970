package fuzz

import (
	"errors"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/pathguard/pathguard/canon"
	"github.com/pathguard/pathguard/internal/testfs"
)

// canonSeeds are the inputs of canon's unit tables: cleaning, IsLocal,
// Split and the invalid cases.
var canonSeeds = []string{
	"a", "a/b", ".", "./", "/", "//", "/..", "/../..", "/../a", "..", "../..",
	"a/..", "a/../..", "a/../../b", "/a//b/", "a/./b/.", "a/b/../c",
	"/srv/www/../x", "...", "..a/b..", "a\nb", `a\..\b`, "./a/../b", "//./",
	"", "a\x00b", "\x00", "/etc/passwd\x00.png",
	strings.Repeat("a", 255), strings.Repeat("a", 256),
	"x/" + strings.Repeat("b", 256) + "/y",
	strings.Repeat("a/", 2047) + "b", strings.Repeat("a/", 2048),
}

// withinSeeds are the (root, path) pairs of canon's Within table.
var withinSeeds = [][2]string{
	{"/srv/www", "/srv/www"}, {"/srv/www", "/srv/www/"}, {"/srv/www/", "/srv/www"},
	{"/srv/www", "/srv/www/index.html"}, {"/srv/www", "//srv//www/./a"},
	{"/srv/www", "/srv/www/a/../b"}, {"/srv/www", "/srv/www2"},
	{"/srv/www", "/srv/www2/x"}, {"/srv/www", "/srv/www.bak"},
	{"/srv/www", "/srv/www/../x"}, {"/srv/www", "/srv/www/.."},
	{"/srv/www", "/srv/www/a/../../www2"}, {"/srv/www", "/srv"}, {"/srv/www", "/"},
	{"/", "/"}, {"/", "/etc"}, {"/", "/../etc"}, {"/srv/www", "srv/www/x"},
	{"srv/www", "/srv/www/x"}, {".", "/"}, {"/", "a"}, {"a", "a/b"}, {"a", "ab"},
	{"a", "a/../b"}, {"a/b", "a"}, {".", "."}, {".", "a"}, {".", ".."},
	{".", "../a"}, {".", "..."}, {"..", ".."}, {"..", "../x"}, {"..", "../.."},
	{"..", "../../x"}, {"..", "..."}, {"../a", "../a/b"}, {"../a", "../ab"},
	{"/srv/www", "/srv/www/\x00"}, {"", "a"}, {"/srv/www", ""},
}

// invalid is canon's rule for bad input, written out again independently:
// empty, a NUL byte, PATH_MAX (4096, counting the NUL) or more, or a
// component over NAME_MAX (255).
func invalid(p string) bool {
	if p == "" || len(p) >= 4096 || strings.Contains(p, "\x00") {
		return true
	}
	return slices.ContainsFunc(strings.Split(p, "/"), func(c string) bool { return len(c) > 255 })
}

// local reports whether a clean relative path stays where it starts.
func local(c string) bool {
	return c != ".." && !strings.HasPrefix(c, "../")
}

func FuzzClean(f *testing.F) {
	for _, s := range canonSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		c, err := canon.Clean(p)
		if invalid(p) {
			if !errors.Is(err, canon.ErrInvalid) {
				t.Fatalf("Clean(%q) = %q, %v, want ErrInvalid", p, c, err)
			}
			if canon.IsLocal(p) {
				t.Fatalf("IsLocal(%q) = true, want false (invalid)", p)
			}
			return
		}
		if err != nil {
			t.Fatalf("Clean(%q) = %v, want no error", p, err)
		}
		if again, err := canon.Clean(c); err != nil || again != c {
			t.Fatalf("Clean(%q) = %q, %v, want %q (idempotence)", c, again, err, c)
		}
		if filepath.Separator == '/' {
			if want := filepath.Clean(p); c != want {
				t.Fatalf("Clean(%q) = %q, want %q (filepath.Clean)", p, c, want)
			}
			if got, want := canon.IsLocal(p), filepath.IsLocal(p); got != want {
				t.Fatalf("IsLocal(%q) = %v, want %v (filepath.IsLocal)", p, got, want)
			}
		}
		if !canon.Within(p, p) || !canon.Within(c, p) {
			t.Fatalf("Within(%q, %q) = false, want true (a path is within itself)", p, p)
		}
		if !slices.Contains(strings.Split(p, "/"), "..") {
			joined := strings.Join(canon.Split(p), "/")
			switch {
			case strings.HasPrefix(p, "/"):
				joined = "/" + joined
			case joined == "":
				joined = "."
			}
			if joined != c {
				t.Fatalf("Split(%q) joined = %q, want %q (Clean)", p, joined, c)
			}
		}
	})
}

func FuzzWithin(f *testing.F) {
	for _, s := range withinSeeds {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, root, p string) {
		got := canon.Within(root, p)
		if filepath.Separator == '/' {
			if want := withinOracle(root, p); got != want {
				t.Fatalf("Within(%q, %q) = %v, want %v (filepath.Rel)", root, p, got, want)
			}
		}
		r, err := canon.Clean(root)
		if err != nil {
			if got {
				t.Fatalf("Within(%q, %q) = true, want false (invalid root)", root, p)
			}
			return
		}
		// Joining a relative path that stays local to root lands within
		// root. (The converse does not hold: "../www/x" leaves /srv/www
		// and comes back.)
		if rel := p; !strings.HasPrefix(rel, "/") && !invalid(rel) {
			j := path.Join(root, rel)
			if !invalid(j) && local(path.Clean(rel)) && !canon.Within(root, j) {
				t.Fatalf("Within(%q, %q) = false, want true (joined %q is local)", root, j, rel)
			}
		}
		// The prefix trap: a sibling whose name extends root's last
		// component is never within it.
		if s := p; r != "." && r != "/" && s != "" && !strings.Contains(s, "/") {
			if canon.Within(root, r+s) {
				t.Fatalf("Within(%q, %q) = true, want false (prefix trap)", root, r+s)
			}
		}
	})
}

// withinOracle is Within computed another way, with filepath.Rel.
func withinOracle(root, p string) bool {
	if invalid(root) || invalid(p) || filepath.IsAbs(root) != filepath.IsAbs(p) {
		return false
	}
	rel, err := filepath.Rel(root, p)
	return err == nil && (rel == "." || filepath.IsLocal(rel))
}

// hostileTree is canon's test tree: a root into which an attacker has
// planted upward, absolute, looping and dangling symlinks.
var hostileTree = []string{
	"a/", "a/f=inside", "a/b/", "a/b/g=deep",
	"up => ..", "a/up => ../..", "a/upup => ../../../../../..",
	"abs => /a", "absf => /a/f", "a/etcpw => /etc/passwd",
	"a/hostetc => ../../../../../../etc", "selfabs => /selfabs",
	"c1 => c2", "c2 => a/c3", "a/c3 => ../c4", "c4 => /absf",
	"dir => a/b/", "loop1 => loop2", "loop2 => loop1", "self => self",
	"dangle => nowhere", "dangleabs => /nowhere/x",
}

// joinSeeds are the names of canon's Join and Resolve tables.
var joinSeeds = []string{
	"a/f", ".", "/", "..", "../../../etc/passwd", "/etc/passwd", "a/../../a/f",
	"a/up/a/f", "up/up/a/b/g", "a/upup/etc/passwd", "a/hostetc/passwd",
	"a/etcpw", "abs/f", "absf", "c1", "dir/g", "dir/", "a/up/../../a/b/g",
	"dangle", "dangleabs", "nonexist/../a/f", "a/f/..", "a//b/./g/", "a/f/",
	"loop1", "self/x", "selfabs/x", "", "a\x00b", strings.Repeat("a", 256),
}

func FuzzJoin(f *testing.F) {
	root := tempDir(f)
	testfs.Make(f, root, hostileTree...)
	for _, s := range joinSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		got, err := canon.Join(root, name)
		switch {
		case invalid(name):
			if !errors.Is(err, canon.ErrInvalid) {
				t.Fatalf("Join(root, %q) = %q, %v, want ErrInvalid", name, got, err)
			}
			return
		case errors.Is(err, syscall.ELOOP):
			// A loop is the one thing SecureJoin refuses.
		case err != nil:
			t.Fatalf("Join(root, %q) = %v, want a path or ELOOP", name, err)
		case !canon.Within(root, got):
			t.Fatalf("Join(root, %q) = %q, outside root %q", name, got, root)
		}
		// Where the kernel reaches something, it is inside the root too,
		// and Join, which walks the same tree, agrees with it.
		res, rerr := canon.Resolve(root, name)
		if rerr != nil {
			return
		}
		if !canon.Within(root, res) {
			t.Fatalf("Resolve(root, %q) = %q, outside root %q", name, res, root)
		}
		if err != nil || got != res {
			t.Fatalf("Join(root, %q) = %q, %v, want %q (Resolve)", name, got, err, res)
		}
	})
}
