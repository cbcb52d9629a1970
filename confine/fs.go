package confine

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"syscall"

	"github.com/pathguard/pathguard/internal/resolve"
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
// Errors keep the Root's sentinels and also match the io/fs error a
// generic caller maps, so http.FileServerFS never answers 500 for what a
// client sent: a name that escapes (ErrEscape), meets a refused link
// (ErrSymlink, ELOOP) or mount (ErrCrossDevice), or leads to a device,
// FIFO or socket (ErrSpecialFile, with NoSpecialFiles) also matches
// fs.ErrPermission (403); a name that cannot exist (ErrInvalid: a NUL
// byte, 4096 bytes or more, a component over 255; ENAMETOOLONG; a
// non-directory on the way, ENOTDIR) also matches fs.ErrNotExist (404).
// To serve a tree where someone else can plant FIFOs or devices, open the
// Root with NoSpecialFiles: FS opens files with Root.Open, so it honours
// the option.
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
		return &fs.PathError{Op: op, Path: name, Err: &fsError{fs.ErrInvalid, fs.ErrNotExist}}
	}
	return nil
}

// fsError is an error from the Root that also matches the io/fs error
// (fs.ErrPermission or fs.ErrNotExist) a caller that knows only io/fs
// maps it to; errors.Is still finds the Root's own sentinel or errno
// through Unwrap.
type fsError struct {
	err   error
	alike error
}

func (e *fsError) Error() string        { return e.err.Error() }
func (e *fsError) Unwrap() error        { return e.err }
func (e *fsError) Is(target error) bool { return target == e.alike }

// fsErr maps err, an error from a Root method, as FS documents. An error
// that already matches fs.ErrNotExist or fs.ErrPermission, or that is
// none of those the client's name can cause, is returned as it is.
func fsErr(err error) error {
	pe, ok := err.(*fs.PathError)
	if !ok || errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrPermission) {
		return err
	}
	var alike error
	switch e := pe.Err; {
	case errors.Is(e, resolve.ErrEscape), errors.Is(e, resolve.ErrCrossDevice),
		errors.Is(e, resolve.ErrSymlink), errors.Is(e, syscall.ELOOP):
		alike = fs.ErrPermission
	case errors.Is(e, resolve.ErrInvalid), errors.Is(e, syscall.ENAMETOOLONG),
		errors.Is(e, syscall.ENOTDIR):
		alike = fs.ErrNotExist
	default:
		return err
	}
	return &fs.PathError{Op: pe.Op, Path: pe.Path, Err: &fsError{pe.Err, alike}}
}

// fsErr2 is fsErr for a call that returns a value too.
func fsErr2[T any](v T, err error) (T, error) { return v, fsErr(err) }

func (f rootFS) Open(name string) (fs.File, error) {
	if err := validFSPath("open", name); err != nil {
		return nil, err
	}
	file, err := f.r.Open(name)
	if err != nil {
		return nil, fsErr(err)
	}
	return fsFile{file, name}, nil
}

func (f rootFS) Stat(name string) (fs.FileInfo, error) {
	if err := validFSPath("stat", name); err != nil {
		return nil, err
	}
	return fsErr2(f.r.Stat(name))
}

func (f rootFS) Lstat(name string) (fs.FileInfo, error) {
	if err := validFSPath("lstat", name); err != nil {
		return nil, err
	}
	return fsErr2(f.r.Lstat(name))
}

func (f rootFS) ReadFile(name string) ([]byte, error) {
	if err := validFSPath("readfile", name); err != nil {
		return nil, err
	}
	return fsErr2(f.r.ReadFile(name))
}

func (f rootFS) ReadDir(name string) ([]fs.DirEntry, error) {
	if err := validFSPath("readdir", name); err != nil {
		return nil, err
	}
	return fsErr2(f.r.ReadDir(name))
}

func (f rootFS) ReadLink(name string) (string, error) {
	if err := validFSPath("readlink", name); err != nil {
		return "", err
	}
	return fsErr2(f.r.Readlink(name))
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
