package extract

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strconv"

	"github.com/pathguard/pathguard/confine"
)

// Tar extracts the tar archive read from r into root. For a compressed
// archive, wrap r first (see Decompress). Entries are created in archive
// order, each through root with no symlink followed; see the package
// documentation for what is refused, skipped and limited.
//
// The Report lists every entry read, and is returned even with an error.
// An error that a refused entry caused is a *fs.PathError naming the
// entry as the archive spells it, with Op "extract".
func Tar(root *confine.Root, r io.Reader, opts ...Option) (*Report, error) {
	return run(root, opts, pull(tarHeaders(r)))
}

// ScanTar reports what Tar would do with the archive read from r in an
// empty directory, writing nothing: every entry it would refuse or skip,
// and why. Refusals do not stop it; limits and a malformed archive do.
// What depends on the destination's contents (existing files, links
// already there) cannot be known.
func ScanTar(r io.Reader, opts ...Option) (*Report, error) {
	return scan(opts, pull(tarHeaders(r)))
}

// tarHeaders yields r's entries as headers.
func tarHeaders(r io.Reader) func() (*header, error) {
	tr := tar.NewReader(r)
	return func() (*header, error) {
		th, err := tr.Next()
		// ErrInsecurePath (GODEBUG=tarinsecurepath=0) comes with a
		// valid header: the names are judged here, by checkName.
		if errors.Is(err, tar.ErrInsecurePath) {
			err = nil
		}
		if err == io.EOF {
			return nil, nil
		}
		if err != nil {
			return nil, fmt.Errorf("extract: reading tar: %w", err)
		}
		for th.Typeflag == tar.TypeXGlobalHeader {
			// Records for the archive as a whole (git archive puts the
			// commit id there), not an entry: archive/tar returns
			// them as one. Nothing of them is applied.
			if th, err = tr.Next(); err == io.EOF {
				return nil, nil
			} else if err != nil && !errors.Is(err, tar.ErrInsecurePath) {
				return nil, fmt.Errorf("extract: reading tar: %w", err)
			}
		}
		h := &header{
			name:       th.Name,
			link:       th.Linkname,
			mode:       fs.FileMode(th.Mode & 0o777),
			size:       th.Size,
			mtime:      th.ModTime,
			uid:        th.Uid,
			gid:        th.Gid,
			compressed: -1,
		}
		if th.Mode&0o7000 != 0 {
			// Set-id and sticky bits are never kept; the mode above
			// already lacks them.
			h.mode &= fs.ModePerm
		}
		switch th.Typeflag {
		case tar.TypeReg, tar.TypeCont, tar.TypeGNUSparse:
			// (The reader turns the old TypeRegA into TypeReg or TypeDir.)
			// A sparse entry reads as its full logical size, holes as
			// zeros: it is written, and counted, in full.
			h.kind = KindFile
			h.body = func() (io.Reader, error) { return tr, nil }
		case tar.TypeDir:
			h.kind = KindDir
		case tar.TypeSymlink:
			h.kind = KindSymlink
		case tar.TypeLink:
			h.kind = KindHardLink
		case tar.TypeFifo:
			h.kind = KindFIFO
		case tar.TypeChar:
			h.kind = KindCharDevice
			h.dev = mkdev(th.Devmajor, th.Devminor)
		case tar.TypeBlock:
			h.kind = KindBlockDevice
			h.dev = mkdev(th.Devmajor, th.Devminor)
		default:
			h.kind = KindOther
			h.note = "tar type flag " + strconv.QuoteRune(rune(th.Typeflag)) + " is not extracted"
		}
		return h, nil
	}
}

// mkdev is Linux's device number encoding (makedev(3)).
func mkdev(major, minor int64) uint64 {
	ma, mi := uint64(major), uint64(minor)
	return (ma&0xfff)<<8 | (ma&^0xfff)<<32 | mi&0xff | (mi&^0xff)<<12
}
