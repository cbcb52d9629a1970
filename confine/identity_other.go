//go:build !linux || pathguard_osroot

package confine

import (
	"errors"
	"io/fs"
	"os"
)

// identify cannot see where links lead through os.Root, nor the birth
// time or file handle that tell a file from one with a recycled inode
// number: FileIDs are Linux-only.
func (r *root) identify(name string) (FileID, error) {
	return FileID{}, &fs.PathError{Op: "identify", Path: name, Err: errors.ErrUnsupported}
}

func (r *root) openID(id FileID) (*os.File, error) {
	return nil, &fs.PathError{Op: "openid", Path: id.path, Err: errors.ErrUnsupported}
}
