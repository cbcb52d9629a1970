package extract

import (
	"os"
	"time"

	"golang.org/x/sys/unix"

	"github.com/pathguard/pathguard/internal/sys"
)

// openDirFlags opens a directory and nothing else: a FIFO swapped in
// would block an O_RDONLY open.
const openDirFlags = os.O_RDONLY | unix.O_DIRECTORY

// setTimes sets the access and modification times of f to mtime, on the
// descriptor (utimensat with AT_EMPTY_PATH), never by name.
func setTimes(f *os.File, mtime time.Time) error {
	ts := []unix.Timespec{unix.NsecToTimespec(mtime.UnixNano()), unix.NsecToTimespec(mtime.UnixNano())}
	sc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	if err := sc.Control(func(fd uintptr) {
		serr = sys.UtimensatFd(int(fd), ts)
	}); err != nil {
		return err
	}
	return serr
}
