//go:build !pathguard_osroot

package extract_test

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/pathguard/pathguard/confine"
	"github.com/pathguard/pathguard/confine/extract"
)

// benchTree is a source tree as a tarball: 10,000 files of 1 KiB in 100
// directories.
func benchTree(b *testing.B) []byte {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	body := bytes.Repeat([]byte("x"), 1024)
	for d := range 100 {
		tw.WriteHeader(&tar.Header{Name: fmt.Sprintf("src/d%02d/", d), Typeflag: tar.TypeDir, Mode: 0o755})
		for f := range 100 {
			tw.WriteHeader(&tar.Header{Name: fmt.Sprintf("src/d%02d/f%03d.go", d, f), Typeflag: tar.TypeReg, Mode: 0o644, Size: 1024})
			tw.Write(body)
		}
	}
	tw.Close()
	return buf.Bytes()
}

// bigTar streams a tar of one file of size bytes, without holding it.
func bigTar(size int64) io.Reader {
	pr, pw := io.Pipe()
	go func() {
		tw := tar.NewWriter(pw)
		tw.WriteHeader(&tar.Header{Name: "big", Typeflag: tar.TypeReg, Mode: 0o644, Size: size})
		io.CopyN(tw, zeros{}, size)
		pw.CloseWithError(tw.Close())
	}()
	return pr
}

// benchNaive is the naive extractor the safe one is measured beside:
// archive/tar and os.Create by joined path, errors checked.
func benchNaive(dest string, r io.Reader) error {
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		p := filepath.Join(dest, h.Name)
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(p, 0o755); err != nil {
				return err
			}
		case tar.TypeReg:
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				return err
			}
			f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, os.FileMode(h.Mode)&0o777)
			if err != nil {
				return err
			}
			_, err = io.Copy(f, tr)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return err
			}
			if err := os.Chtimes(p, h.ModTime, h.ModTime); err != nil {
				return err
			}
		}
	}
}

// BenchmarkTar compares Tar (both backends) with the naive extractor, on
// a tree of 10,000 small files and on one 1 GiB file (-short: 64 MiB).
func BenchmarkTar(b *testing.B) {
	tree := benchTree(b)
	size := int64(1 << 30)
	if testing.Short() {
		size = 64 << 20
	}
	inputs := []struct {
		name string
		in   func() io.Reader
		n    int64
	}{
		{"10k-files", func() io.Reader { return bytes.NewReader(tree) }, int64(len(tree))},
		{fmt.Sprintf("%dMiB-file", size>>20), func() io.Reader { return bigTar(size) }, size},
	}
	for _, in := range inputs {
		b.Run(in.name+"/naive", func(b *testing.B) {
			b.SetBytes(in.n)
			for b.Loop() {
				b.StopTimer()
				dir := b.TempDir()
				b.StartTimer()
				if err := benchNaive(dir, in.in()); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				os.RemoveAll(dir)
				b.StartTimer()
			}
		})
		for _, be := range backends {
			b.Run(in.name+"/"+be.String(), func(b *testing.B) {
				b.SetBytes(in.n)
				for b.Loop() {
					b.StopTimer()
					dir := b.TempDir()
					r, err := confine.OpenRoot(dir, confine.WithResolver(be))
					if err != nil {
						b.Fatal(err)
					}
					b.StartTimer()
					if _, err := extract.Tar(r, in.in(), extract.WithLimits(extract.Limits{FileSize: -1, TotalSize: -1})); err != nil {
						b.Fatal(err)
					}
					b.StopTimer()
					r.Close()
					os.RemoveAll(dir)
					b.StartTimer()
				}
			})
		}
	}
}
