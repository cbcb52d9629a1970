package extract_test

import (
	"bytes"
	"compress/gzip"
	"io"
	"testing"

	"github.com/pathguard/pathguard/confine/extract"
)

// TestDecompress: gzip is recognised by its magic and undone; anything
// else, short inputs included, comes back as it is.
func TestDecompress(t *testing.T) {
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte("tar bytes"))
	zw.Close()
	for _, c := range []struct{ in, want string }{
		{gz.String(), "tar bytes"},
		{"plain tar", "plain tar"},
		{"B", "B"},
		{"", ""},
	} {
		r, err := extract.Decompress(bytes.NewReader([]byte(c.in)))
		if err != nil {
			t.Fatalf("Decompress(%q): %v", c.in, err)
		}
		got, err := io.ReadAll(r)
		if err != nil || string(got) != c.want {
			t.Errorf("Decompress(%q) reads %q, %v; want %q", c.in, got, err, c.want)
		}
	}
}
