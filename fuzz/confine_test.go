//go:build linux

package fuzz

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/pathguard/pathguard/confine"
	"github.com/pathguard/pathguard/internal/testfs"
)

// confineTree is a hostile tree: links inside, outward, absolute, dangling,
// chained and looping, and a secret beside the root.
var confineTree = []string{
	"root/f=F", "root/d/g=G", "root/d/e/h=H",
	"root/in => d/g", "root/up => ../f", "root/dd => d", "root/chain => in",
	"root/d/back => ../f", "root/d/e/deep => ../../f",
	"root/out => ../secret", "root/abs => /etc/passwd", "root/absin => /f",
	"root/d/esc => ../../secret", "root/dang => nowhere", "root/loop => loop",
	"root/self => .", "root/proc => /proc/self/root",
	"secret=SECRET",
}

// confineSeeds are names from confine's resolution table.
var confineSeeds = []string{
	"f", "d/g", "in", "up", "chain", "dd/e/h", "d/back", "d/e/deep", "out",
	"abs", "absin", "d/esc", "dang", "loop", "self/self/f", "proc/etc",
	"..", "../secret", "/f", "/../secret", "d/../../secret", "dd/", "in/",
	"out/", "d/esc/", "self/../f", ".", "./", "//f", "d//g", "a\x00b", "",
	"d/e/../../f", "dd/../up",
}

// FuzzRootOpen asserts, for any name, under both backends and both modes:
// no panic; the error, if any, is a *fs.PathError carrying the name; what
// is opened lies inside the root (its inode is one of the root's); the
// secret beside the root is never opened; and the two backends agree on
// success or on the error.
func FuzzRootOpen(f *testing.F) {
	for _, s := range confineSeeds {
		f.Add(s)
	}
	base := tempDir(f)
	testfs.Make(f, base, confineTree...)
	dir := filepath.Join(base, "root")
	inside := map[[2]uint64]bool{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		var st unix.Stat_t
		if err := unix.Lstat(p, &st); err != nil {
			return err
		}
		inside[[2]uint64{st.Dev, st.Ino}] = true
		return nil
	})
	if err != nil {
		f.Fatal(err)
	}
	var roots [2][2]*confine.Root
	for i, mode := range [][]confine.Option{nil, {confine.InRoot()}} {
		for j, rv := range []confine.Resolver{confine.ResolverOpenat2, confine.ResolverWalk} {
			r, err := confine.OpenRoot(dir, append(mode, confine.WithResolver(rv))...)
			if err != nil {
				f.Fatal(err)
			}
			f.Cleanup(func() { r.Close() })
			roots[i][j] = r
		}
	}
	f.Fuzz(func(t *testing.T, name string) {
		for i, pair := range roots {
			var got [2]error
			for j, r := range pair {
				file, err := openRetrying(r, name)
				got[j] = err
				if err != nil {
					var pe *fs.PathError
					if !errors.As(err, &pe) || pe.Path != name {
						t.Fatalf("mode %d %v: Open(%q) error %#v is not a *fs.PathError naming the input", i, r.Resolver(), name, err)
					}
					continue
				}
				var st syscall.Stat_t
				serr := syscall.Fstat(int(file.Fd()), &st)
				file.Close()
				if serr != nil {
					t.Fatal(serr)
				}
				if !inside[[2]uint64{st.Dev, st.Ino}] {
					t.Fatalf("mode %d %v: Open(%q) reached inode %d outside the root", i, r.Resolver(), name, st.Ino)
				}
			}
			if (got[0] == nil) != (got[1] == nil) || (got[0] != nil && errClass(got[0]) != errClass(got[1])) {
				t.Fatalf("mode %d: Open(%q): openat2 = %v, walk = %v; the backends disagree", i, name, got[0], got[1])
			}
		}
	})
}

// openRetrying is r.Open, repeated for up to 10 s while it fails with an
// error matching EAGAIN: openat2 refuses a ".." whenever anything on the
// system was renamed during the lookup, and other packages' race tests
// rename thousands of times a second. That answer is documented as
// retryable; the one compared is the answer once the system is quieter.
func openRetrying(r *confine.Root, name string) (*os.File, error) {
	deadline := time.Now().Add(10 * time.Second)
	for {
		f, err := r.Open(name)
		if !errors.Is(err, syscall.EAGAIN) || time.Now().After(deadline) {
			return f, err
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// errClass names the error well enough to compare the backends.
func errClass(err error) string {
	for _, c := range []struct {
		target error
		name   string
	}{
		{confine.ErrEscape, "escape"}, {confine.ErrSymlink, "symlink"},
		{confine.ErrCrossDevice, "xdev"}, {fs.ErrInvalid, "invalid"},
		{fs.ErrNotExist, "notexist"}, {syscall.ELOOP, "loop"},
		{syscall.ENOTDIR, "notdir"}, {syscall.ENAMETOOLONG, "toolong"},
	} {
		if errors.Is(err, c.target) {
			return c.name
		}
	}
	return err.Error()
}

// FuzzAllowlistLocate asserts, for any absolute path: Locate either
// refuses it or picks an allowed directory that is a whole-component
// prefix of the path with "." and empty components removed (never a mere
// string prefix), the longest such; the remainder is the rest of those
// components, ".." kept; and whatever Open then opens lies inside that
// directory.
func FuzzAllowlistLocate(f *testing.F) {
	base := tempDir(f)
	testfs.Make(f, base, "srv/www/index=I", "srv/www/sub/f=F", "srv/www2/f=W2",
		"srv/www/up => ../www2/f", "srv/www/sub/l => ..", "etc/passwd=P")
	dirs := []string{filepath.Join(base, "srv/www"), filepath.Join(base, "srv/www/sub"), filepath.Join(base, "srv/www2")}
	a, err := confine.OpenAllowlist(dirs)
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { a.Close() })
	// Seeds are relative to the tree's base, except the absolute and
	// empty ones, which stand for paths elsewhere and for bad input.
	for _, s := range []string{"srv/www/index", "srv/www2/f", "srv/www/../www2/f", "srv/www/sub/l/index",
		"srv/www/./sub//f", "srv/www/up", "srv/www", "srv/www/", "srv/www.bak", "etc/passwd", "/etc/passwd", "/", ""} {
		f.Add(s)
	}
	split := func(p string) []string {
		var out []string
		for _, c := range strings.Split(p, "/") {
			if c != "" && c != "." {
				out = append(out, c)
			}
		}
		return out
	}
	f.Fuzz(func(t *testing.T, rel string) {
		p := base + "/" + rel
		if strings.HasPrefix(rel, "/") || rel == "" {
			p = rel // also absolute paths elsewhere, and bad input
		}
		r, rest, err := a.Locate(p)
		if err != nil {
			return
		}
		pc := split(p)
		var best []string
		for _, d := range dirs {
			dc := split(d)
			if len(dc) <= len(pc) && slices.Equal(dc, pc[:len(dc)]) && len(dc) > len(best) {
				best = dc
			}
		}
		if best == nil {
			t.Fatalf("Locate(%q) = %q, %q, want an error: no allowed directory is a prefix", p, r.Name(), rest)
		}
		if got := split(r.Name()); !slices.Equal(got, best) {
			t.Fatalf("Locate(%q) picked %q, want %q", p, r.Name(), "/"+strings.Join(best, "/"))
		}
		if want := pc[len(best):]; !slices.Equal(split(rest), want) {
			t.Fatalf("Locate(%q) remainder %q, want the components %q", p, rest, want)
		}
		file, err := a.Open(p)
		if err != nil {
			return
		}
		defer file.Close()
		got, err := filepath.EvalSymlinks("/proc/self/fd/" + strconv.Itoa(int(file.Fd())))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(got+"/", r.Name()+"/") {
			t.Fatalf("Open(%q) opened %q, outside %q", p, got, r.Name())
		}
	})
}
