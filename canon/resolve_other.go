//go:build !linux

package canon

import (
	"errors"
	"io/fs"
)

// resolveInRoot needs openat2 or O_PATH descriptors, which only Linux has.
func resolveInRoot(root, unsafePath string) (string, error) {
	return "", &fs.PathError{Op: "resolve", Path: unsafePath, Err: errors.ErrUnsupported}
}
