//go:build !linux || pathguard_osroot

package confine

import (
	"errors"
	"io/fs"

	"github.com/pathguard/pathguard/internal/resolve"
)

func (r *root) restrict(o options) (*root, error) {
	if o.mode != 0 || o.resolver != ResolverAuto {
		return nil, &fs.PathError{Op: "restrict", Path: r.name, Err: resolve.ErrInvalid}
	}
	if o.flags != 0 {
		return nil, &fs.PathError{Op: "restrict", Path: r.name, Err: errors.ErrUnsupported}
	}
	return r.openRoot(".")
}

func (r *root) mknod(name string, mode fs.FileMode, dev uint64) error {
	return &fs.PathError{Op: "mknodat", Path: name, Err: errors.ErrUnsupported}
}
