//go:build !pathguard_osroot

package confine

import (
	"io/fs"
	"os"
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

// dirEntry is an fs.DirEntry whose Info was taken when the directory was
// read, on the held directory fd (readDirFile).
type dirEntry struct{ fi fs.FileInfo }

func (d dirEntry) Name() string               { return d.fi.Name() }
func (d dirEntry) IsDir() bool                { return d.fi.IsDir() }
func (d dirEntry) Type() fs.FileMode          { return d.fi.Mode().Type() }
func (d dirEntry) Info() (fs.FileInfo, error) { return d.fi, nil }
func (d dirEntry) String() string             { return fs.FormatDirEntry(d) }
