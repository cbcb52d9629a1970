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

// mkdirLinker is what os.Root and confine.Root share for these cases.
type mkdirLinker interface {
	MkdirAll(string, fs.FileMode) error
	Link(string, string) error
}

// TestOSRootErrnoParity pins corner errors where confine.Root answers as
// os.Root (and the kernel) do, found by running Go's own os.Root tests
// against confine.Root: each case runs on os.Root too, so the expectation
// is checked against the peer, under both backends.
func TestOSRootErrnoParity(t *testing.T) {
	tree := []string{"file=F", "dir/", "dangling => nowhere", "target/", "tofile => file", "todir => dir"}
	cases := []struct {
		name   string
		do     func(r mkdirLinker) error
		want   error
		reason string
	}{
		{"MkdirAll(file)", func(r mkdirLinker) error {
			return r.MkdirAll("file", 0o755)
		}, fs.ErrExist, "an existing non-directory is EEXIST, not ENOTDIR"},
		{"MkdirAll(file/)", func(r mkdirLinker) error {
			return r.MkdirAll("file/", 0o755)
		}, fs.ErrExist, "with a trailing slash too"},
		{"MkdirAll(tofile)", func(r mkdirLinker) error {
			return r.MkdirAll("tofile", 0o755)
		}, syscall.ENOTDIR, "a link to a file is ENOTDIR"},
		{"MkdirAll(dangling)", func(r mkdirLinker) error {
			return r.MkdirAll("dangling", 0o755)
		}, fs.ErrExist, "a dangling link is an existing entry"},
		{"MkdirAll(new/../todir)", func(r mkdirLinker) error {
			return r.MkdirAll("new/../todir", 0o755)
		}, nil, "after a level made and \"..\", a link to a directory is an existing directory"},
		{"MkdirAll(new/../todir/x)", func(r mkdirLinker) error {
			return r.MkdirAll("new/../todir/x", 0o755)
		}, nil, "and is followed, inside, to make what comes after it"},
		{"MkdirAll(dir/new/../x)", func(r mkdirLinker) error {
			return r.MkdirAll("dir/new/../x", 0o755)
		}, nil, "a level made below an existing one, then \"..\""},
		{"Link(missing, .)", func(r mkdirLinker) error {
			return r.Link("missing", ".")
		}, fs.ErrNotExist, "the source is looked up first"},
		{"Link(missing, dir/)", func(r mkdirLinker) error {
			return r.Link("missing", "dir/")
		}, fs.ErrNotExist, "the source is looked up first"},
		{"Link(missing, file/x)", func(r mkdirLinker) error {
			return r.Link("missing", "file/x")
		}, syscall.ENOTDIR, "the new name's parent is resolved before the source's last component"},
		{"Link(missing, nodir/x)", func(r mkdirLinker) error {
			return r.Link("missing", "nodir/x")
		}, fs.ErrNotExist, "the new name's missing parent"},
		{"Link(missing, file/)", func(r mkdirLinker) error {
			return r.Link("missing", "file/")
		}, syscall.ENOTDIR, "a file with a slash is the new name's error"},
		{"Link(dir/, target)", func(r mkdirLinker) error {
			return r.Link("dir/", "target")
		}, fs.ErrExist, "an existing new name comes before EPERM for a directory"},
	}
	for _, c := range cases {
		dir := testfs.New(t, tree...)
		or, err := os.OpenRoot(dir)
		if err != nil {
			t.Fatal(err)
		}
		if err := c.do(or); !errors.Is(err, c.want) {
			t.Errorf("os.Root: %s = %v, want %v: the expectation is wrong", c.name, err, c.want)
		}
		or.Close()
		for _, rv := range []confine.Resolver{confine.ResolverOpenat2, confine.ResolverWalk} {
			dir := testfs.New(t, tree...)
			r, err := confine.OpenRoot(dir, confine.WithResolver(rv))
			if err != nil {
				t.Fatal(err)
			}
			err = c.do(r)
			if !errors.Is(err, c.want) {
				t.Errorf("%v: %s = %v, want %v (%s)", rv, c.name, err, c.want, c.reason)
			}
			if _, _, ok := errShape(err); err != nil && !ok {
				t.Errorf("%v: %s = %#v, want a *fs.PathError or *os.LinkError", rv, c.name, err)
			}
			r.Close()
			if _, err := os.Lstat(filepath.Join(dir, "nowhere")); err == nil {
				t.Errorf("%v: %s created the dangling link's target", rv, c.name)
			}
		}
	}
}
