package extract

import (
	"fmt"
	"io"
	"io/fs"

	"github.com/pathguard/pathguard/confine"
)

// FS copies the file system fsys into root: a safe os.CopyFS. Every
// directory, regular file and symlink of fsys is created through root,
// with the same rules, limits and Report as Tar (symlinks as the link
// options say; fsys must implement fs.ReadLinkFS for them). Modes are
// the source's, set-id and sticky bits cleared; times are kept. Special
// files are skipped (FIFOs created with WithSpecialFiles; device numbers
// are not known through io/fs).
func FS(root *confine.Root, fsys fs.FS, opts ...Option) (*Report, error) {
	return run(root, opts, func(add func(*header) error) error {
		return fs.WalkDir(fsys, ".", func(name string, d fs.DirEntry, err error) error {
			if err != nil {
				return fmt.Errorf("extract: reading the source: %w", err)
			}
			h, err := fsHeader(fsys, name, d)
			if err != nil {
				return fmt.Errorf("extract: reading the source: %w", err)
			}
			return add(h)
		})
	})
}

func fsHeader(fsys fs.FS, name string, d fs.DirEntry) (*header, error) {
	info, err := d.Info()
	if err != nil {
		return nil, err
	}
	m := info.Mode()
	h := &header{
		name:       name,
		kind:       kindOf(m),
		mode:       m.Perm(),
		size:       -1,
		mtime:      info.ModTime(),
		compressed: -1,
	}
	switch h.kind {
	case KindDir:
		if name != "." {
			h.name = name + "/"
		}
	case KindFile:
		h.size = info.Size()
		h.body = func() (io.Reader, error) { return &lazyFile{fsys: fsys, name: name}, nil }
	case KindSymlink:
		if h.link, err = fs.ReadLink(fsys, name); err != nil {
			return nil, err
		}
	case KindCharDevice, KindBlockDevice:
		h.note = fmt.Sprintf("a %s is not created from an fs.FS: its device number is unknown", h.kind)
	}
	return h, nil
}

// lazyFile opens a file of the source when it is first read and closes
// it at its end.
type lazyFile struct {
	fsys fs.FS
	name string
	f    fs.File
	done bool
}

func (l *lazyFile) Read(p []byte) (int, error) {
	if l.done {
		return 0, io.EOF
	}
	if l.f == nil {
		f, err := l.fsys.Open(l.name)
		if err != nil {
			return 0, fmt.Errorf("extract: reading the source: %w", err)
		}
		l.f = f
	}
	n, err := l.f.Read(p)
	if err != nil {
		l.f.Close()
		l.done = true
		if err != io.EOF {
			err = fmt.Errorf("extract: reading the source: %w", err)
		}
	}
	return n, err
}
