package zipslip

import (
	"archive/tar"
	"archive/zip"
	"io"
	"os"
	"path/filepath"
	"strings"
)

func untar(dst string, r io.Reader) error {
	tr := tar.NewReader(r)
	for {
		hdr, err := tr.Next()
		if err != nil {
			return err
		}
		target := filepath.Join(dst, hdr.Name)
		switch hdr.Typeflag {
		case tar.TypeDir:
			os.MkdirAll(target, 0o755) // want `archive entry's tar header Name is the path of os.MkdirAll`
		case tar.TypeSymlink:
			os.Symlink(hdr.Linkname, target) // want `tar header (Linkname|Name)`
		case tar.TypeLink:
			os.Link(filepath.Join(dst, hdr.Linkname), target) // want `tar header (Linkname|Name)`
		case tar.TypeReg:
			f, err := os.OpenFile(target, os.O_CREATE|os.O_WRONLY, os.FileMode(hdr.Mode)) // want `tar header Name is the path of os.OpenFile`
			if err != nil {
				return err
			}
			f.Close()
		}
	}
}

// The check published with many Zip Slip fixes, without a separator.
func unzip(dst string, zr *zip.Reader) error {
	for _, zf := range zr.File {
		p := filepath.Join(dst, zf.Name)
		if !strings.HasPrefix(p, filepath.Clean(dst)) {
			continue
		}
		os.WriteFile(p, nil, 0o644) // want `zip header Name is the path of os.WriteFile`
	}
	return nil
}

// True negatives: names checked, links refused, entries only listed.

func untarChecked(dst string, r io.Reader) error {
	tr := tar.NewReader(r)
	for {
		hdr, err := tr.Next()
		if err != nil {
			return err
		}
		if !filepath.IsLocal(hdr.Name) {
			continue
		}
		if hdr.Typeflag != tar.TypeReg {
			continue
		}
		f, err := os.Create(filepath.Join(dst, hdr.Name))
		if err != nil {
			return err
		}
		f.Close()
	}
}

func list(zr *zip.Reader) []string {
	var names []string
	for _, zf := range zr.File {
		names = append(names, zf.Name)
	}
	os.MkdirAll("/tmp/cache", 0o755)
	return names
}
