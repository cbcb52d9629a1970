//go:build !pathguard_osroot

package extract_test

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pathguard/pathguard/confine/extract"
)

// TestLimits: each limit stops the extraction with ErrLimit naming the
// entry, even with SkipRefused, and the partial file is gone.
func TestLimits(t *testing.T) {
	big := strings.Repeat("x", 3000)
	cases := []struct {
		name    string
		tar     func(t *testing.T) []byte
		zip     func(t *testing.T) []byte
		limits  extract.Limits
		entry   string
		written []string // the files that stay
	}{
		{name: "file size", tar: func(t *testing.T) []byte { return tarOf(t, file("a", "ok"), file("big", big)) },
			limits: extract.Limits{FileSize: 2048}, entry: "big", written: []string{"a"}},
		{name: "total size", tar: func(t *testing.T) []byte { return tarOf(t, file("a", big), file("b", big)) },
			limits: extract.Limits{TotalSize: 5000}, entry: "b", written: []string{"a"}},
		{name: "entries", tar: func(t *testing.T) []byte { return tarOf(t, file("a", "1"), file("b", "2"), file("c", "3")) },
			limits: extract.Limits{Entries: 2}, entry: "c", written: []string{"a", "b"}},
		{name: "depth", tar: func(t *testing.T) []byte { return tarOf(t, file("a/b/c/d", "1")) },
			limits: extract.Limits{Depth: 3}, entry: "a/b/c/d"},
		{name: "name length", tar: func(t *testing.T) []byte { return tarOf(t, file(strings.Repeat("n", 40), "1")) },
			limits: extract.Limits{NameLength: 32}, entry: strings.Repeat("n", 40)},
		// A sparse file claiming 1 TB in a few blocks: refused on its claim.
		{name: "sparse 1 TB", tar: func(*testing.T) []byte { return sparseTar("sparse", 1<<40) }, entry: "sparse"},
		// A sparse file counts its logical size, holes included, as written.
		{name: "sparse over the file limit", tar: func(*testing.T) []byte { return sparseTar("sparse", 3<<20) },
			limits: extract.Limits{FileSize: 2 << 20}, entry: "sparse"},
		{name: "zip bomb", zip: func(t *testing.T) []byte { return zipBomb(t, "bomb", 64<<20) }, entry: "bomb"},
		{name: "zip ratio", zip: func(t *testing.T) []byte { return zipBomb(t, "bomb", 2<<20) },
			limits: extract.Limits{RatioGrace: 1 << 10}, entry: "bomb"},
		{name: "zip file size", zip: func(t *testing.T) []byte { return zipOf(t, file("a", "ok"), file("big", big)) },
			limits: extract.Limits{FileSize: 2048}, entry: "big", written: []string{"a"}},
	}
	for _, c := range cases {
		for _, b := range backends {
			t.Run(c.name+"/"+b.String(), func(t *testing.T) {
				w := newWorld(t)
				r := w.open(t, b)
				opts := []extract.Option{extract.WithLimits(c.limits), extract.SkipRefused()}
				var rep *extract.Report
				var err error
				if c.tar != nil {
					rep, err = extract.Tar(r, bytes.NewReader(c.tar(t)), opts...)
				} else {
					z := c.zip(t)
					rep, err = extract.Zip(r, bytes.NewReader(z), int64(len(z)), opts...)
				}
				checkRefusal(t, rep, err, extract.ErrLimit, c.entry, true)
				des, _ := os.ReadDir(w.dir)
				var got []string
				for _, d := range des {
					got = append(got, d.Name())
				}
				if strings.Join(got, ",") != strings.Join(c.written, ",") {
					t.Errorf("left in the root: %q, want %q (no partial file)", got, c.written)
				}
				if w.changed(t) {
					t.Error("outside the root changed")
				}
			})
		}
	}
}

// TestLimitsRaised: a sparse file's logical size is written and counted
// in full when the limits allow it, and a negative limit removes one.
func TestLimitsRaised(t *testing.T) {
	w := newWorld(t)
	rep, err := extract.Tar(w.open(t, backends[0]), bytes.NewReader(sparseTar("s", 3<<20)),
		extract.WithLimits(extract.Limits{FileSize: 4 << 20}))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Written != 3<<20 || rep.Entries[0].Size != 3<<20 {
		t.Errorf("sparse: Written %d, entry Size %d, want %d", rep.Written, rep.Entries[0].Size, 3<<20)
	}
	fi, err := os.Stat(filepath.Join(w.dir, "s"))
	if err != nil || fi.Size() != 3<<20 {
		t.Errorf("sparse file: %v, %v", fi, err)
	}
	w = newWorld(t)
	z := zipBomb(t, "bomb", 4<<20)
	if _, err := extract.Zip(w.open(t, backends[0]), bytes.NewReader(z), int64(len(z)),
		extract.WithLimits(extract.Limits{Ratio: -1})); err != nil {
		t.Errorf("Ratio -1: %v", err)
	}
}

// TestManyEntries: 1<<20 entries pass, one more is ErrLimit. The entries
// are "./", which creates nothing, so the test costs parsing only.
func TestManyEntries(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("1M entries: not with -short or -race")
	}
	// The same header block 1<<20+1 times, then the end of the archive.
	blk := ustarBlock("./", tar.TypeDir, 0)
	in := io.MultiReader(&repeat{b: blk, n: 1<<20 + 1}, bytes.NewReader(make([]byte, 1024)))
	w := newWorld(t)
	rep, err := extract.Tar(w.open(t, backends[0]), in)
	if !errors.Is(err, extract.ErrLimit) || len(rep.Entries) != 1<<20+1 {
		t.Fatalf("1M+1 entries: %v, %d entries, want ErrLimit at the last", err, len(rep.Entries))
	}
	if rep.Entries[1<<20-1].Action != extract.Written {
		t.Errorf("entry 1M: %+v, want written", rep.Entries[1<<20-1])
	}
}

// TestContext: a done context stops the extraction with ErrLimit and the
// context's own error.
func TestContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	w := newWorld(t)
	rep, err := extract.Tar(w.open(t, backends[0]), bytes.NewReader(tarOf(t, file("a", "x"))), extract.WithContext(ctx))
	if !errors.Is(err, extract.ErrLimit) || !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v, want ErrLimit and context.Canceled", err)
	}
	if _, err := os.Lstat(filepath.Join(w.dir, "a")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a was written: %v", err)
	}
	checkRefusal(t, rep, err, extract.ErrLimit, "a", false)

	// Cancelled while a file is written: the partial file goes.
	ctx, cancel = context.WithCancel(context.Background())
	defer cancel()
	w = newWorld(t)
	n := 0
	_, err = extract.Tar(w.open(t, backends[0]), io.MultiReader(bytes.NewReader(sparseTar("s", 64<<20))),
		extract.WithContext(ctx), extract.WithProgress(func(p extract.Progress) {
			if n++; p.Written > 0 {
				cancel()
			}
		}))
	if !errors.Is(err, context.Canceled) || n < 2 {
		t.Fatalf("cancelled mid-file: %v after %d progress calls", err, n)
	}
	if _, err := os.Lstat(filepath.Join(w.dir, "s")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the partial file stays: %v", err)
	}
}

// repeat reads as b, n times.
type repeat struct {
	b   []byte
	n   int
	off int
}

func (r *repeat) Read(p []byte) (int, error) {
	if r.n == 0 {
		return 0, io.EOF
	}
	m := copy(p, r.b[r.off:])
	if r.off += m; r.off == len(r.b) {
		r.off, r.n = 0, r.n-1
	}
	return m, nil
}
