package securepath

import (
	"errors"
	"io/fs"
	"os"
	"syscall"
	"testing"

	"github.com/pathguard/pathguard/canon"
	"github.com/pathguard/pathguard/confine"
	"github.com/pathguard/pathguard/internal/testfs"
)

// TestOpenDirHoldsTheJudgedDir swaps the directory after OpenDir: the
// Root must still be the one that was judged.
func TestOpenDirHoldsTheJudgedDir(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			for _, during := range []bool{false, true} {
				base := testfs.New(t, "d/f=original")
				swap := func(string) {
					if err := os.Rename(base+"/d", base+"/judged"); err != nil {
						t.Fatal(err)
					}
					testfs.Make(t, base, "d/f=impostor")
				}
				// Swap between the verdict and the Root, or after both.
				if during {
					afterCheck = swap
				}
				root, err := OpenDir(base+"/d", nil, b.opt)
				afterCheck = nil
				if err != nil {
					t.Fatal(err)
				}
				defer root.Close()
				if got := root.Resolver(); got.String() != b.name {
					t.Fatalf("Root uses %v, want %s", got, b.name)
				}
				if !during {
					swap(base)
				}
				f, err := root.Open("f")
				if err != nil {
					t.Fatal(err)
				}
				defer f.Close()
				if got := readAll(t, f); got != "original" {
					t.Fatalf("swap during=%v: Root reads %q, want the judged directory's file", during, got)
				}
			}
		})
	}
}

func TestOpenDirRefuses(t *testing.T) {
	base := openTempDir(t)
	mkdir(t, base+"/w", 0o777, -1, -1)
	mkdir(t, base+"/sticky", 0o777|fs.ModeSticky, -1, -1)
	for _, tc := range []struct {
		path string
		want error
	}{
		{base + "/w", ErrInsecure},
		{base + "/sticky", ErrInsecure},
		{base + "/missing", fs.ErrNotExist},
		{"rel", canon.ErrInvalid},
	} {
		root, err := OpenDir(tc.path, nil)
		if !errors.Is(err, tc.want) || root != nil {
			t.Errorf("OpenDir(%q) = %v, %v; want nil, %v", tc.path, root, err, tc.want)
		}
	}
}

func TestOpen(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			base := openTempDir(t)
			testfs.Make(t, base, "outside=outside", "dir/a/f=hello", "dir/g=top", "dir/link => a/f",
				"dir/up => ..", "dir/abs => "+base+"/dir/g", "dir/a/back => ../g", "dir/w/f=in a world-writable dir",
				"dir/w2/sub/f=below a world-writable dir", "dir/t/mine/f=below a sticky dir", "dir/t/f=in a sticky dir")
			chmod(t, base+"/dir/w", 0o777)
			chmod(t, base+"/dir/w2", 0o777)
			chmod(t, base+"/dir/t", 0o777|fs.ModeSticky)
			if err := syscall.Mkfifo(base+"/dir/fifo", 0o600); err != nil {
				t.Fatal(err)
			}
			for _, tc := range []struct {
				name string
				opts []confine.Option
				want string
				err  error
			}{
				{name: "a/f", want: "hello"},
				{name: "link", want: "hello"},
				{name: "a/back", want: "top"},
				{name: "a/../g", want: "top"},
				{name: "t/mine/f", want: "below a sticky dir"},
				{name: "../outside", err: confine.ErrEscape},
				{name: "up/outside", err: confine.ErrEscape},
				{name: "abs", err: confine.ErrEscape},
				{name: "/g", err: confine.ErrEscape},
				{name: "w/f", err: ErrInsecure},
				{name: "w2/sub/f", err: ErrInsecure},
				{name: "t/f", err: ErrInsecure},
				{name: "fifo", err: ErrNotRegular},
				{name: "a/f/", err: syscall.ENOTDIR},
				{name: "missing", err: fs.ErrNotExist},
				{name: "", err: canon.ErrInvalid},
				{name: "../g", opts: []confine.Option{confine.InRoot()}, want: "top"},
				{name: "/a/f", opts: []confine.Option{confine.InRoot()}, want: "hello"},
				{name: "link", opts: []confine.Option{confine.NoSymlinks()}, err: confine.ErrSymlink},
			} {
				opts := append([]confine.Option{b.opt}, tc.opts...)
				f, err := Open(base+"/dir", tc.name, nil, opts...)
				if tc.err != nil {
					if !errors.Is(err, tc.err) || f != nil {
						t.Errorf("Open(dir, %q) = %v, %v; want %v", tc.name, f, err, tc.err)
					}
					if f != nil {
						f.Close()
					}
					continue
				}
				if err != nil {
					t.Errorf("Open(dir, %q) = %v", tc.name, err)
					continue
				}
				if got := readAll(t, f); got != tc.want {
					t.Errorf("Open(dir, %q) reads %q, want %q", tc.name, got, tc.want)
				}
				f.Close()
			}

			// A directory opens too, and is judged as the target.
			f, err := Open(base+"/dir", "a", nil, b.opt)
			if err != nil {
				t.Fatalf("Open(dir, a) = %v", err)
			}
			f.Close()
			if f, err := Open(base+"/dir", "t", nil, b.opt); !errors.Is(err, ErrInsecure) {
				t.Errorf("Open(dir, t) = %v, %v; want ErrInsecure (sticky target)", f, err)
			}

			// An insecure dir itself.
			chmod(t, base+"/dir", 0o777)
			if f, err := Open(base+"/dir", "g", nil, b.opt); !errors.Is(err, ErrInsecure) {
				t.Errorf("Open of a world-writable dir = %v, %v; want ErrInsecure", f, err)
			}
		})
	}
}

// TestOpenUntrustedLinkBelowDir: a link owned by someone else in a sticky
// directory below dir is refused, a trusted one is followed.
func TestOpenUntrustedLinkBelowDir(t *testing.T) {
	requireRoot(t)
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			base := openTempDir(t)
			testfs.Make(t, base, "dir/t/", "dir/g=top", "dir/t/mine => ../g", "dir/t/theirs => ../g")
			chmod(t, base+"/dir/t", 0o777|fs.ModeSticky)
			if err := os.Lchown(base+"/dir/t/theirs", nobody, nobody); err != nil {
				t.Fatal(err)
			}
			f, err := Open(base+"/dir", "t/mine", nil, b.opt)
			if err != nil {
				t.Fatalf("Open(t/mine) = %v", err)
			}
			f.Close()
			if f, err := Open(base+"/dir", "t/theirs", nil, b.opt); !errors.Is(err, ErrInsecure) {
				t.Fatalf("Open(t/theirs) = %v, %v; want ErrInsecure", f, err)
			}
		})
	}
}
