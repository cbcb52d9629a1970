//go:build !pathguard_osroot

package confine

import (
	"io/fs"
	"os"

	"github.com/pathguard/pathguard/internal/sys"
)

// statFd describes the file that fd (an O_PATH fd is enough) refers to,
// named name, and closes fd. The FileInfo is package os's own, from
// fstat on that fd, so os.SameFile and Sys().(*syscall.Stat_t) work on it
// as on os.Root's.
func statFd(fd int, name string) (fs.FileInfo, error) {
	f := os.NewFile(uintptr(fd), name)
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, underlying(err)
	}
	return fi, nil
}

// statAt describes the entry name of the directory dirfd without following
// it: one openat(O_PATH|O_NOFOLLOW) of that single name on the held
// directory fd, and an fstat. Nothing is looked up by path, so no rename
// can make it describe anything else (the CVE-2026-27139 race).
func statAt(dirfd int, name string) (fs.FileInfo, error) {
	fd, err := sys.OpenPath(dirfd, name)
	if err != nil {
		return nil, err
	}
	return statFd(fd, name)
}

// dirEntry is an fs.DirEntry whose Info was taken when the directory was
// read, on the held directory fd.
type dirEntry struct{ fi fs.FileInfo }

func (d dirEntry) Name() string               { return d.fi.Name() }
func (d dirEntry) IsDir() bool                { return d.fi.IsDir() }
func (d dirEntry) Type() fs.FileMode          { return d.fi.Mode().Type() }
func (d dirEntry) Info() (fs.FileInfo, error) { return d.fi, nil }
func (d dirEntry) String() string             { return fs.FormatDirEntry(d) }
