package extract

import (
	"archive/zip"
	"errors"
	"fmt"
	"io"

	"github.com/pathguard/pathguard/confine"
)

// Zip extracts the zip archive held by r, size bytes long, into root,
// entries in the order of the central directory. See Tar; in addition an
// entry that writes more than Limits.Ratio bytes per compressed byte,
// past Limits.RatioGrace, is ErrLimit (a zip bomb).
func Zip(root *confine.Root, r io.ReaderAt, size int64, opts ...Option) (*Report, error) {
	next, err := zipHeaders(r, size)
	if err != nil {
		return &Report{}, err
	}
	return run(root, opts, pull(next))
}

// ScanZip is ScanTar for a zip archive.
func ScanZip(r io.ReaderAt, size int64, opts ...Option) (*Report, error) {
	next, err := zipHeaders(r, size)
	if err != nil {
		return &Report{}, err
	}
	return scan(opts, pull(next))
}

// maxZipLink bounds the target of a zip symlink entry, stored as its
// data: PATH_MAX.
const maxZipLink = 4096

func zipHeaders(r io.ReaderAt, size int64) (func() (*header, error), error) {
	zr, err := zip.NewReader(r, size)
	// ErrInsecurePath (GODEBUG=zipinsecurepath=0) comes with a valid
	// reader: the names are judged here, by checkName.
	if err != nil && !(errors.Is(err, zip.ErrInsecurePath) && zr != nil) {
		return nil, fmt.Errorf("extract: reading zip: %w", err)
	}
	i := 0
	var cur io.ReadCloser
	return func() (*header, error) {
		if cur != nil {
			cur.Close()
			cur = nil
		}
		if i == len(zr.File) {
			return nil, nil
		}
		f := zr.File[i]
		i++
		m := f.Mode()
		h := &header{
			name:       f.Name,
			kind:       kindOf(m),
			mode:       m.Perm(),
			size:       int64(min(f.UncompressedSize64, 1<<63-1)),
			mtime:      f.Modified,
			compressed: int64(min(f.CompressedSize64, 1<<63-1)),
		}
		open := func() (io.Reader, error) {
			rc, err := f.Open()
			if err != nil {
				return nil, fmt.Errorf("extract: reading zip: %w", err)
			}
			cur = rc
			return readErr{rc}, nil
		}
		switch h.kind {
		case KindFile:
			h.body = open
		case KindSymlink:
			// The target is the entry's data, read whole now (it is
			// small or refused) and checked like a tar link's.
			rd, err := open()
			if err != nil {
				return nil, err
			}
			b, err := io.ReadAll(io.LimitReader(rd, maxZipLink+1))
			if err != nil {
				return nil, err
			}
			if len(b) > maxZipLink {
				h.link = "" // refused as invalid
			} else {
				h.link = string(b)
			}
		case KindDir, KindFIFO, KindSocket:
		default:
			h.kind, h.note = KindOther, fmt.Sprintf("zip entry of mode %v is not extracted", m)
		}
		return h, nil
	}, nil
}

// readErr marks read errors of a zip entry's data as the archive's,
// not the destination's.
type readErr struct{ r io.Reader }

func (e readErr) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err != nil && err != io.EOF {
		err = fmt.Errorf("extract: reading zip: %w", err)
	}
	return n, err
}
