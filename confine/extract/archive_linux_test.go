//go:build !pathguard_osroot

package extract_test

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/flate"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// ent is one entry of an archive built by a test. typ is a tar type flag;
// zipOf maps it to a mode.
type ent struct {
	name string
	typ  byte
	mode int64
	body string
	link string
}

func file(name, body string) ent      { return ent{name: name, typ: tar.TypeReg, mode: 0o644, body: body} }
func dir(name string, mode int64) ent { return ent{name: name, typ: tar.TypeDir, mode: mode} }
func symlink(name, target string) ent {
	return ent{name: name, typ: tar.TypeSymlink, mode: 0o777, link: target}
}
func hardlink(name, target string) ent {
	return ent{name: name, typ: tar.TypeLink, mode: 0o644, link: target}
}

// testTime is the modification time every built entry carries.
var testTime = time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)

// tarOf builds a tar archive (PAX where needed) of ents.
func tarOf(t testing.TB, ents ...ent) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range ents {
		h := &tar.Header{
			Name: e.name, Typeflag: e.typ, Mode: e.mode, Linkname: e.link,
			ModTime: testTime, Uid: 1234, Gid: 5678,
		}
		if e.typ == tar.TypeReg {
			h.Size = int64(len(e.body))
		}
		if e.typ != tar.TypeDir && strings.HasSuffix(e.name, "/") {
			// archive/tar will not write this one: write it by hand.
			if err := tw.Flush(); err != nil {
				t.Fatal(err)
			}
			buf.Write(ustarBlock(e.name, e.typ, h.Size))
			buf.Write(padBlock([]byte(e.body)))
			continue
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatalf("tar header %q: %v", e.name, err)
		}
		if _, err := io.WriteString(tw, e.body); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// zipOf builds a zip archive of ents (files deflated, symlinks stored
// with their target as data, as Info-ZIP does).
func zipOf(t testing.TB, ents ...ent) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range ents {
		h := &zip.FileHeader{Name: e.name, Method: zip.Deflate, Modified: testTime}
		body := e.body
		switch e.typ {
		case tar.TypeReg:
			h.SetMode(fs.FileMode(e.mode))
		case tar.TypeDir:
			h.SetMode(fs.ModeDir | fs.FileMode(e.mode))
		case tar.TypeSymlink:
			h.SetMode(fs.ModeSymlink | 0o777)
			body = e.link
		case tar.TypeFifo:
			h.SetMode(fs.ModeNamedPipe | fs.FileMode(e.mode))
		default:
			t.Fatalf("zipOf: type %q", e.typ)
		}
		w, err := zw.CreateHeader(h)
		if err != nil {
			t.Fatalf("zip header %q: %v", e.name, err)
		}
		if _, err := io.WriteString(w, body); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// zipBomb is a zip holding one file of n zero bytes, deflated.
func zipBomb(t testing.TB, name string, n int64) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	zw.RegisterCompressor(zip.Deflate, func(w io.Writer) (io.WriteCloser, error) {
		return flate.NewWriter(w, flate.BestCompression)
	})
	w, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.CopyN(w, zeros{}, n); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// sparseTar is a tar holding one PAX (GNU 0.1) sparse file of logical size
// size, whose only data is the byte "x" at offset 0: a few blocks that
// read back as size bytes. archive/tar cannot write sparse files, so the
// blocks are made by hand.
func sparseTar(name string, size int64) []byte {
	var buf bytes.Buffer
	recs := paxRecord("GNU.sparse.size", fmt.Sprint(size)) +
		paxRecord("GNU.sparse.numblocks", "1") +
		paxRecord("GNU.sparse.map", "0,1") +
		paxRecord("path", name)
	buf.Write(ustarBlock("PaxHeaders/x", 'x', int64(len(recs))))
	buf.Write(padBlock([]byte(recs)))
	buf.Write(ustarBlock("x", '0', 1))
	buf.Write(padBlock([]byte("x")))
	buf.Write(make([]byte, 1024))
	return buf.Bytes()
}

// paxRecord is one "LEN key=value\n" record, LEN counting itself.
func paxRecord(k, v string) string {
	n := len(k) + len(v) + 3
	for {
		s := fmt.Sprintf("%d %s=%s\n", n, k, v)
		if len(s) == n {
			return s
		}
		n = len(s)
	}
}

// ustarBlock is a ustar header block.
func ustarBlock(name string, typ byte, size int64) []byte {
	b := make([]byte, 512)
	copy(b[0:100], name)
	copy(b[100:108], "0000644\x00")
	copy(b[108:116], "0000000\x00")
	copy(b[116:124], "0000000\x00")
	copy(b[124:136], fmt.Sprintf("%011o\x00", size))
	copy(b[136:148], fmt.Sprintf("%011o\x00", testTime.Unix()))
	copy(b[148:156], "        ")
	b[156] = typ
	copy(b[257:265], "ustar\x0000")
	sum := 0
	for _, c := range b {
		sum += int(c)
	}
	copy(b[148:156], fmt.Sprintf("%06o\x00 ", sum))
	return b
}

func padBlock(b []byte) []byte {
	if r := len(b) % 512; r != 0 {
		b = append(b, make([]byte, 512-r)...)
	}
	return b
}

// naiveTar is the extractor every test's attack is first seen to beat: it
// joins each name to dest and acts by path, following whatever links it
// meets, as archive/tar's documentation example and many real extractors
// do. Errors are ignored so the attack's later entries still run.
func naiveTar(dest string, r io.Reader) {
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if err != nil {
			return
		}
		p := filepath.Join(dest, h.Name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		switch h.Typeflag {
		case tar.TypeDir:
			os.MkdirAll(p, fs.FileMode(h.Mode)&fs.ModePerm)
		case tar.TypeReg:
			if f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, fs.FileMode(h.Mode)&fs.ModePerm); err == nil {
				io.Copy(f, tr)
				f.Close()
			}
		case tar.TypeSymlink:
			os.Symlink(h.Linkname, p)
		case tar.TypeLink:
			os.Link(filepath.Join(dest, h.Linkname), p)
		}
	}
}

// naiveZip is naiveTar for zip.
func naiveZip(dest string, b []byte) {
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		return
	}
	for _, f := range zr.File {
		p := filepath.Join(dest, f.Name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		rc, err := f.Open()
		if err != nil {
			continue
		}
		switch m := f.Mode(); {
		case m.IsDir():
			os.MkdirAll(p, 0o755)
		case m&fs.ModeSymlink != 0:
			t, _ := io.ReadAll(rc)
			os.Symlink(string(t), p)
		default:
			if w, err := os.Create(p); err == nil {
				io.Copy(w, rc)
				w.Close()
			}
		}
		rc.Close()
	}
}

// subst replaces {out} in s with the canary directory.
func subst(s, out string) string { return strings.ReplaceAll(s, "{out}", out) }
