//go:build !linux

package securepath

import (
	"errors"
	"io/fs"
	"os"

	"github.com/pathguard/pathguard/confine"
)

// errPlatform: the walk on held descriptors, O_PATH, O_TMPFILE and the
// ACL attributes it needs are Linux's.
var errPlatform = errors.ErrUnsupported

func check(path string, p *Policy) (*Report, error) {
	return nil, &fs.PathError{Op: "check", Path: path, Err: errPlatform}
}

func openDir(path string, p *Policy, opts []confine.Option) (*confine.Root, error) {
	return nil, &fs.PathError{Op: "opendir", Path: path, Err: errPlatform}
}

func open(dir, unsafePath string, p *Policy, opts []confine.Option) (*os.File, error) {
	return nil, &fs.PathError{Op: "open", Path: dir, Err: errPlatform}
}

func writeFile(root *confine.Root, name string, data []byte, perm fs.FileMode, mode WriteMode) error {
	return &fs.PathError{Op: "writefile", Path: name, Err: errPlatform}
}

func writable(fd int, p *Policy) (string, error) { return "", errPlatform }
