//go:build !linux

package extract

import (
	"errors"
	"os"
	"time"
)

const openDirFlags = os.O_RDONLY

// setTimes is never reached outside Linux: the extraction needs a Root
// with NoSymlinks, which only Linux provides.
func setTimes(f *os.File, mtime time.Time) error { return errors.ErrUnsupported }
