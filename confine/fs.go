package confine

import (
	"io"
	"io/fs"
	"os"
)

// FS returns a file system (an fs.FS) for the tree of files in the root,
// which also implements fs.StatFS, fs.ReadFileFS, fs.ReadDirFS and
// fs.ReadLinkFS. It is usable as http.FileServerFS(root.FS()).
//
// Names are checked with fs.ValidPath first (an invalid one is
// fs.ErrInvalid), then resolved like any name given to the Root: with
// the Root's mode and flags, links followed only inside. A directory's
// entries carry the FileInfo taken on the held directory fd while it was
// read, never looked up by name afterwards.
//
// The result is valid until the Root is closed; after that every call
// fails with fs.ErrClosed.
func (r *Root) FS() fs.FS { return rootFS{r} }

type rootFS struct{ r *Root }

var (
	_ fs.StatFS     = rootFS{}
	_ fs.ReadFileFS = rootFS{}
	_ fs.ReadDirFS  = rootFS{}
	_ fs.ReadLinkFS = rootFS{}
)

func validFSPath(op, name string) error {
	if !fs.ValidPath(name) {
		return &fs.PathError{Op: op, Path: name, Err: fs.ErrInvalid}
	}
	return nil
}

func (f rootFS) Open(name string) (fs.File, error) {
	if err := validFSPath("open", name); err != nil {
		return nil, err
	}
	file, err := f.r.Open(name)
	if err != nil {
		return nil, err
	}
	return fsFile{file, name}, nil
}

func (f rootFS) Stat(name string) (fs.FileInfo, error) {
	if err := validFSPath("stat", name); err != nil {
		return nil, err
	}
	return f.r.Stat(name)
}

func (f rootFS) Lstat(name string) (fs.FileInfo, error) {
	if err := validFSPath("lstat", name); err != nil {
		return nil, err
	}
	return f.r.Lstat(name)
}

func (f rootFS) ReadFile(name string) ([]byte, error) {
	if err := validFSPath("readfile", name); err != nil {
		return nil, err
	}
	return f.r.ReadFile(name)
}

func (f rootFS) ReadDir(name string) ([]fs.DirEntry, error) {
	if err := validFSPath("readdir", name); err != nil {
		return nil, err
	}
	return f.r.ReadDir(name)
}

func (f rootFS) ReadLink(name string) (string, error) {
	if err := validFSPath("readlink", name); err != nil {
		return "", err
	}
	return f.r.Readlink(name)
}

// fsFile is an *os.File whose ReadDir takes each entry's FileInfo on the
// held directory fd (os.File's own ReadDir looks entries up again by the
// directory's path name when Info is called).
type fsFile struct {
	*os.File
	name string // the name given to Open, for errors
}

func (f fsFile) ReadDir(n int) ([]fs.DirEntry, error) { return readDirFile(f.File, f.name, n) }

// maxSizeGuess caps the buffer allocated up front from a file's reported
// size: an attacker's sparse file can claim up to 2^63-1 bytes, and
// allocating that before reading would panic or end the process. Past the
// guess, the buffer grows only as data is really read.
const maxSizeGuess = 1 << 20

// readAll reads f to the end, with its size (at most maxSizeGuess) as a
// first guess.
func readAll(f *os.File, name string) ([]byte, error) {
	var claimed int64
	if fi, err := f.Stat(); err == nil {
		claimed = fi.Size()
	}
	return readAllSized(f, name, claimed)
}

// readAllSized is readAll with the size the file claims.
func readAllSized(f *os.File, name string, claimed int64) ([]byte, error) {
	size := 512
	if claimed > 0 {
		size = int(min(claimed, maxSizeGuess)) + 1
	}
	data := make([]byte, 0, size)
	for {
		n, err := f.Read(data[len(data):cap(data)])
		data = data[:len(data)+n]
		if err == io.EOF {
			return data, nil
		}
		if err != nil {
			return nil, &fs.PathError{Op: "read", Path: name, Err: underlying(err)}
		}
		if len(data) == cap(data) {
			data = append(data, 0)[:len(data)]
		}
	}
}

// underlying is the error inside a *fs.PathError (whose Path is the
// Root's internal name for the file), so the caller's name can be put
// around it instead.
func underlying(err error) error {
	if pe, ok := err.(*fs.PathError); ok {
		return pe.Err
	}
	return err
}
