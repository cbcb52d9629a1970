//go:build !linux || pathguard_osroot

package extract_test

import (
	"archive/tar"
	"bytes"
	"errors"
	"testing"

	"github.com/pathguard/pathguard/confine"
	"github.com/pathguard/pathguard/confine/extract"
)

// TestUnsupported: outside Linux no Root refuses every symlink, so the
// extraction refuses to start; the scans still work.
func TestUnsupported(t *testing.T) {
	r, err := confine.OpenRoot(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	tw.WriteHeader(&tar.Header{Name: "f", Mode: 0o644, Size: 1})
	tw.Write([]byte("x"))
	tw.Close()
	arch := buf.Bytes()
	if _, err := extract.Tar(r, bytes.NewReader(arch)); !errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("Tar: %v, want errors.ErrUnsupported", err)
	}
	if rep, err := extract.ScanTar(bytes.NewReader(arch)); err != nil || len(rep.Entries) != 1 {
		t.Errorf("ScanTar: %v, %+v", err, rep)
	}
}
