package archivebomb

import (
	"archive/tar"
	"archive/zip"
	"bufio"
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"os"
)

func gunzip(dst io.Writer, r io.Reader) error {
	gz, err := gzip.NewReader(r)
	if err != nil {
		return err
	}
	_, err = io.Copy(dst, gz) // want `io.Copy reads from gzip.NewReader with no bound`
	return err
}

func wrapped(dst io.Writer, r io.Reader) error {
	gz, err := gzip.NewReader(r)
	if err != nil {
		return err
	}
	_, err = io.Copy(dst, bufio.NewReader(gz)) // want `io.Copy reads from gzip.NewReader`
	return err
}

func entries(f *os.File, r io.Reader) error {
	tr := tar.NewReader(r)
	for {
		if _, err := tr.Next(); err != nil {
			return err
		}
		if _, err := io.Copy(f, tr); err != nil { // want `io.Copy reads from tar.NewReader`
			return err
		}
	}
}

func zipEntry(zf *zip.File) ([]byte, error) {
	rc, err := zf.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(rc) // want `io.ReadAll reads from zip.File.Open`
}

// True negatives: bounded copies, and copies of files and bodies that are
// not archives.

func bounded(dst io.Writer, r io.Reader, zf *zip.File) error {
	gz, err := gzip.NewReader(r)
	if err != nil {
		return err
	}
	if _, err := io.Copy(dst, io.LimitReader(gz, 1<<20)); err != nil {
		return err
	}
	if _, err := io.CopyN(dst, gz, 1<<20); err != nil && err != io.EOF {
		return err
	}
	rc, err := zf.Open()
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	_, err = buf.ReadFrom(io.LimitReader(rc, int64(zf.UncompressedSize64)))
	return err
}

func plain(dst io.Writer, w http.ResponseWriter, r *http.Request) error {
	f, err := os.Open("/srv/static/index.html")
	if err != nil {
		return err
	}
	defer f.Close()
	if _, err := io.Copy(dst, f); err != nil {
		return err
	}
	_, err = io.Copy(dst, http.MaxBytesReader(w, r.Body, 1<<20))
	return err
}
