package canon_test

import (
	"errors"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/pathguard/pathguard/canon"
	"github.com/pathguard/pathguard/internal/resolve"
)

// invalidPaths are refused by every function in the package, each for
// one of the reasons ErrInvalid names.
var invalidPaths = []struct {
	p      string
	reason string
}{
	{"", "empty"},
	{"a\x00b", "NUL byte"},
	{"\x00", "only a NUL byte"},
	{"/etc/passwd\x00.png", "NUL byte truncating a suffix check"},
	{strings.Repeat("a/", 2048), "4096 bytes (PATH_MAX counts the NUL)"},
	{strings.Repeat("a", 4096), "4096 bytes in one component"},
	{strings.Repeat("a", 256), "component of 256 bytes (NAME_MAX is 255)"},
	{"x/" + strings.Repeat("b", 256) + "/y", "long component in the middle"},
}

var cleanTests = []struct {
	p, want string
}{
	{"a", "a"},
	{"a/b", "a/b"},
	{".", "."},
	{"./", "."},
	{"/", "/"},
	{"//", "/"},
	{"/..", "/"},
	{"/../..", "/"},
	{"/../a", "/a"},
	{"..", ".."},
	{"../..", "../.."},
	{"a/..", "."},
	{"a/../..", ".."},
	{"a/../../b", "../b"},
	{"/a//b/", "/a/b"},
	{"a/./b/.", "a/b"},
	{"a/b/../c", "a/c"},
	{"/srv/www/../x", "/srv/x"},
	{"...", "..."},
	{"..a/b..", "..a/b.."},
	{"a\nb", "a\nb"},
	{`a\..\b`, `a\..\b`}, // a backslash is an ordinary byte
	{strings.Repeat("a", 255), strings.Repeat("a", 255)},
	{strings.Repeat("a/", 2047) + "b", strings.Repeat("a/", 2047) + "b"}, // 4095 bytes
}

func TestClean(t *testing.T) {
	for _, tt := range cleanTests {
		got, err := canon.Clean(tt.p)
		if err != nil || got != tt.want {
			t.Errorf("Clean(%q) = %q, %v, want %q, nil", tt.p, got, err, tt.want)
		}
	}
}

func TestCleanInvalid(t *testing.T) {
	for _, tt := range invalidPaths {
		got, err := canon.Clean(tt.p)
		if !errors.Is(err, canon.ErrInvalid) {
			t.Errorf("Clean(%q) = %q, %v, want ErrInvalid (%s)", tt.p, got, err, tt.reason)
			continue
		}
		if got != "" {
			t.Errorf("Clean(%q) = %q with an error, want \"\"", tt.p, got)
		}
		if !errors.Is(err, fs.ErrInvalid) || !errors.Is(err, syscall.EINVAL) {
			t.Errorf("Clean(%q) error %v does not match fs.ErrInvalid and EINVAL", tt.p, err)
		}
		var pe *fs.PathError
		if !errors.As(err, &pe) || pe.Op != "clean" || pe.Path != tt.p {
			t.Errorf("Clean(%q) error = %#v, want *fs.PathError{Op: \"clean\", Path: %q}", tt.p, err, tt.p)
		}
	}
}

var isLocalTests = []struct {
	p    string
	want bool
}{
	{"a", true},
	{"a/b", true},
	{".", true},
	{"./a", true},
	{"a/..", true},
	{"a/../b", true},
	{"...", true},
	{"..a", true},
	{"a/..b", true},
	{"a//b/", true},
	{"..", false},
	{"../a", false},
	{"a/../..", false},
	{"a/../../b", false},
	{"/a", false},
	{"/", false},
	{"//a", false},
}

func TestIsLocal(t *testing.T) {
	for _, tt := range isLocalTests {
		if got := canon.IsLocal(tt.p); got != tt.want {
			t.Errorf("IsLocal(%q) = %v, want %v", tt.p, got, tt.want)
		}
	}
	for _, tt := range invalidPaths {
		if canon.IsLocal(tt.p) {
			t.Errorf("IsLocal(%q) = true, want false (%s)", tt.p, tt.reason)
		}
	}
}

// genPaths returns every string of length up to n over an alphabet that
// reaches all the cases of lexical cleaning: names, ".", "..", "...",
// repeated, leading and trailing slashes.
func genPaths(n int) []string {
	alphabet := []string{"a", ".", "/"}
	out := []string{""}
	level := []string{""}
	for range n {
		var next []string
		for _, p := range level {
			for _, c := range alphabet {
				next = append(next, p+c)
			}
		}
		out = append(out, next...)
		level = next
	}
	return out
}

// genComponentPaths returns paths built from whole components, so that
// longer sequences of "..", "." and names are covered than genPaths
// reaches.
func genComponentPaths(n int) []string {
	comps := []string{"a", "b", ".", "..", ""}
	var out []string
	var rec func(prefix string, depth int)
	rec = func(prefix string, depth int) {
		out = append(out, prefix, "/"+prefix, prefix+"/")
		if depth == n {
			return
		}
		for _, c := range comps {
			if prefix == "" {
				rec(c, depth+1)
			} else {
				rec(prefix+"/"+c, depth+1)
			}
		}
	}
	rec("", 0)
	return out
}

// unixOnly skips differential tests where path/filepath is not the Unix
// one: canon is slash-separated everywhere, filepath is not.
func unixOnly(t *testing.T) {
	t.Helper()
	if filepath.Separator != '/' {
		t.Skip("path/filepath is not slash-separated here")
	}
}

func TestCleanDifferential(t *testing.T) {
	unixOnly(t)
	inputs := append(genPaths(8), genComponentPaths(5)...)
	for _, p := range inputs {
		got, err := canon.Clean(p)
		if p == "" {
			if !errors.Is(err, canon.ErrInvalid) {
				t.Errorf("Clean(%q) = %q, %v, want ErrInvalid", p, got, err)
			}
			continue
		}
		if want := filepath.Clean(p); err != nil || got != want {
			t.Errorf("Clean(%q) = %q, %v, want %q (filepath.Clean)", p, got, err, want)
		}
		if again, err := canon.Clean(got); err != nil || again != got {
			t.Errorf("Clean(%q) = %q, %v, want %q (idempotence)", got, again, err, got)
		}
	}
}

func TestIsLocalDifferential(t *testing.T) {
	unixOnly(t)
	inputs := append(genPaths(8), genComponentPaths(5)...)
	for _, p := range inputs {
		if got, want := canon.IsLocal(p), filepath.IsLocal(p); got != want {
			t.Errorf("IsLocal(%q) = %v, want %v (filepath.IsLocal)", p, got, want)
		}
	}
}

var withinTests = []struct {
	root, p string
	want    bool
	reason  string
}{
	{"/srv/www", "/srv/www", true, "root itself"},
	{"/srv/www", "/srv/www/", true, "root itself, trailing slash"},
	{"/srv/www/", "/srv/www", true, "root with a trailing slash"},
	{"/srv/www", "/srv/www/index.html", true, "a child"},
	{"/srv/www", "/srv/www/a/b/c", true, "a descendant"},
	{"/srv/www", "//srv//www/./a", true, "unclean but inside"},
	{"/srv/www", "/srv/www/a/../b", true, "\"..\" that stays inside"},
	{"/srv/www", "/srv/www2", false, "prefix trap: a sibling sharing a string prefix"},
	{"/srv/www", "/srv/www2/x", false, "prefix trap, deeper"},
	{"/srv/www", "/srv/www.bak", false, "prefix trap with a dot"},
	{"/srv/www", "/srv/www/../x", false, "\"..\" leaving the root"},
	{"/srv/www", "/srv/www/..", false, "the parent"},
	{"/srv/www", "/srv/www/a/../../www2", false, "\"..\" into the prefix trap"},
	{"/srv/www", "/srv", false, "an ancestor"},
	{"/srv/www", "/", false, "the file system root"},
	{"/srv/www", "/etc/passwd", false, "elsewhere"},
	{"/", "/", true, "/ in /"},
	{"/", "/etc", true, "everything absolute is in /"},
	{"/", "/../etc", true, "\"..\" at / stays at /"},
	{"/srv/www", "srv/www/x", false, "relative path, absolute root"},
	{"srv/www", "/srv/www/x", false, "absolute path, relative root"},
	{".", "/", false, "absolute path, relative root \".\""},
	{"/", "a", false, "relative path, root /"},
	{"a", "a/b", true, "relative child"},
	{"a", "a", true, "relative root itself"},
	{"a", "ab", false, "relative prefix trap"},
	{"a", "a/../b", false, "relative escape"},
	{"a/b", "a", false, "relative ancestor"},
	{".", ".", true, ". in ."},
	{".", "a", true, "local path in ."},
	{".", "./a/b", true, "local path in ., unclean"},
	{".", "..", false, ".. not in ."},
	{".", "../a", false, "../a not in ."},
	{".", "...", true, "... is a name"},
	{".", "..a", true, "..a is a name"},
	{"..", "..", true, ".. in .."},
	{"..", "../x", true, "../x in .."},
	{"..", "../..", false, "../.. not in .."},
	{"..", "../../x", false, "../../x not in .."},
	{"..", "...", false, "... is not under .."},
	{"..", "x", false, "x is not under .."},
	{"../a", "../a/b", true, "under a relative root with .."},
	{"../a", "../ab", false, "prefix trap under .."},
	{"/srv/www", "/srv/www/\x00", false, "invalid path"},
	{"", "a", false, "invalid root"},
	{"/srv/www", "", false, "empty path"},
}

func TestWithin(t *testing.T) {
	for _, tt := range withinTests {
		if got := canon.Within(tt.root, tt.p); got != tt.want {
			t.Errorf("Within(%q, %q) = %v, want %v (%s)", tt.root, tt.p, got, tt.want, tt.reason)
		}
	}
}

// withinOracle is Within computed another way, with filepath.Rel: p is
// within root when the path from root to p does not start with "..".
func withinOracle(root, p string) bool {
	if resolve.Validate(root) != nil || resolve.Validate(p) != nil {
		return false
	}
	if filepath.IsAbs(root) != filepath.IsAbs(p) {
		return false
	}
	rel, err := filepath.Rel(root, p)
	if err != nil {
		return false // Rel fails when root has more leading ".." than p
	}
	return rel == "." || filepath.IsLocal(rel)
}

func TestWithinDifferential(t *testing.T) {
	unixOnly(t)
	paths := genComponentPaths(3)
	for _, root := range paths {
		for _, p := range paths {
			if got, want := canon.Within(root, p), withinOracle(root, p); got != want {
				t.Errorf("Within(%q, %q) = %v, want %v (filepath.Rel)", root, p, got, want)
			}
		}
	}
}

var splitTests = []struct {
	p    string
	want []string
}{
	{"", nil},
	{"/", nil},
	{".", nil},
	{"./", nil},
	{"//./", nil},
	{"a", []string{"a"}},
	{"/a//b/", []string{"a", "b"}},
	{"a/./b", []string{"a", "b"}},
	{"./a/../b", []string{"a", "..", "b"}},
	{"/../a", []string{"..", "a"}},
	{"..", []string{".."}},
	{"...", []string{"..."}},
	{"a\x00b/c", []string{"a\x00b", "c"}},
}

func TestSplit(t *testing.T) {
	for _, tt := range splitTests {
		if got := canon.Split(tt.p); !slices.Equal(got, tt.want) {
			t.Errorf("Split(%q) = %q, want %q", tt.p, got, tt.want)
		}
	}
}

// TestSplitClean checks Split against Clean: on a path without "..",
// joining the components gives back the cleaned path.
func TestSplitClean(t *testing.T) {
	for _, p := range append(genPaths(7), genComponentPaths(4)...) {
		c, err := canon.Clean(p)
		if err != nil || slices.Contains(strings.Split(p, "/"), "..") {
			continue
		}
		joined := strings.Join(canon.Split(p), "/")
		switch {
		case strings.HasPrefix(p, "/"):
			joined = "/" + joined
		case joined == "":
			joined = "."
		}
		if joined != c {
			t.Errorf("Split(%q) joined = %q, want %q (Clean)", p, joined, c)
		}
	}
}

func TestErrors(t *testing.T) {
	// One value each, shared with the lower layer, so that errors.Is
	// works across packages.
	if canon.ErrEscape != resolve.ErrEscape {
		t.Errorf("canon.ErrEscape is not resolve.ErrEscape")
	}
	if canon.ErrInvalid != resolve.ErrInvalid {
		t.Errorf("canon.ErrInvalid is not resolve.ErrInvalid")
	}
	// As a caller meets them: wrapped in a *fs.PathError.
	escape := &fs.PathError{Op: "open", Path: "../x", Err: canon.ErrEscape}
	if !errors.Is(escape, syscall.EXDEV) || !errors.Is(escape, canon.ErrEscape) {
		t.Errorf("errors.Is(%v, EXDEV and ErrEscape) = false, want true", escape)
	}
	invalid := &fs.PathError{Op: "open", Path: "", Err: canon.ErrInvalid}
	if !errors.Is(invalid, fs.ErrInvalid) || !errors.Is(invalid, syscall.EINVAL) {
		t.Errorf("errors.Is(%v, fs.ErrInvalid and EINVAL) = false, want true", invalid)
	}
	sentinels := []error{canon.ErrEscape, canon.ErrInvalid}
	for i, a := range sentinels {
		for j, b := range sentinels {
			if i != j && errors.Is(a, b) {
				t.Errorf("errors.Is(%v, %v) = true, want false", a, b)
			}
		}
	}
}
