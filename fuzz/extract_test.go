//go:build linux

package fuzz

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"errors"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/pathguard/pathguard/confine"
	"github.com/pathguard/pathguard/confine/extract"
	"github.com/pathguard/pathguard/internal/testfs"
)

// extractLimits are small, so that an input cannot make one iteration
// slow, and checkable: nothing written may exceed them.
var extractLimits = extract.Limits{FileSize: 1 << 16, TotalSize: 1 << 18, Entries: 256, RatioGrace: 1 << 12, Ratio: 50, Depth: 16, NameLength: 512}

// extractSeed is one entry of a seed archive.
type extractSeed struct {
	name string
	typ  byte
	body string // a file's data or a link's target
}

// extractSeeds are archives from confine/extract's attack table: Zip
// Slip, absolute names, links out then a file or a hard link through
// them, links into the planted ones, duplicates, special files.
var extractSeeds = [][]extractSeed{
	{{"a/", tar.TypeDir, ""}, {"a/f", tar.TypeReg, "x"}, {"h", tar.TypeLink, "a/f"}, {"l", tar.TypeSymlink, "a/f"}},
	{{"../out/evil", tar.TypeReg, "x"}},
	{{"/etc/evil", tar.TypeReg, "x"}},
	{{"l", tar.TypeSymlink, "../out"}, {"l/evil", tar.TypeReg, "x"}},
	{{"etc", tar.TypeSymlink, "/etc"}, {"h", tar.TypeLink, "etc/passwd"}, {"h", tar.TypeReg, "x"}},
	{{"out/secret", tar.TypeReg, "pwned"}, {"abs/secret", tar.TypeReg, "pwned"}, {"pf", tar.TypeReg, "pwned"}},
	{{"dl/f", tar.TypeReg, "x"}, {"h", tar.TypeLink, "pf"}},
	{{"f", tar.TypeReg, "1"}, {"f", tar.TypeReg, "2"}, {"f/", tar.TypeDir, ""}},
	{{"ro/", tar.TypeDir, ""}, {"ro/f", tar.TypeReg, "x"}, {"p", tar.TypeFifo, ""}, {"c", tar.TypeChar, ""}},
	{{"s", tar.TypeSymlink, "."}, {"m", tar.TypeSymlink, "s/../out"}, {"m/evil", tar.TypeReg, "x"}},
	// Over the file limit (and, deflated, the ratio), then the total.
	{{"big", tar.TypeReg, strings.Repeat("\x00", 1<<16+1)}},
	{{"a", tar.TypeReg, strings.Repeat("a", 1<<16)}, {"b", tar.TypeReg, strings.Repeat("b", 1<<16)},
		{"c", tar.TypeReg, strings.Repeat("c", 1<<16)}, {"d", tar.TypeReg, strings.Repeat("d", 1<<16)}, {"e", tar.TypeReg, "e"}},
}

func extractTar(ents []extractSeed) []byte {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range ents {
		h := &tar.Header{Name: e.name, Typeflag: e.typ, Mode: 0o4755}
		switch e.typ {
		case tar.TypeReg:
			h.Size = int64(len(e.body))
		case tar.TypeSymlink, tar.TypeLink:
			h.Linkname = e.body
		}
		if h.Typeflag == tar.TypeDir {
			h.Mode = 0o555
		}
		tw.WriteHeader(h)
		io.WriteString(tw, e.body)
	}
	tw.Close()
	return buf.Bytes()
}

func extractZip(ents []extractSeed) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range ents {
		h := &zip.FileHeader{Name: e.name, Method: zip.Deflate}
		switch e.typ {
		case tar.TypeDir:
			h.SetMode(fs.ModeDir | 0o755)
		case tar.TypeSymlink:
			h.SetMode(fs.ModeSymlink | 0o777)
		case tar.TypeReg:
			h.SetMode(0o644)
		default:
			continue
		}
		w, err := zw.CreateHeader(h)
		if err == nil {
			io.WriteString(w, e.body)
		}
	}
	zw.Close()
	return buf.Bytes()
}

// extractTree is the destination before each run: planted links inward,
// outward and absolute, beside a canary tree ("out") that must never
// change.
var extractTree = []string{"root/d/", "root/dl => d", "root/out => ../out", "root/pf => ../out/secret", "out/secret=canary", "out/sub/f=x"}

// FuzzExtract feeds arbitrary bytes, as a tar or (starting "PK") a zip,
// to extract.Tar or extract.Zip, with options drawn from the first byte:
// backend, link policy, Replace, SkipRefused, WithSpecialFiles. Properties:
// no panic; nothing outside the root changes (the canary tree, and
// nothing new beside the root); no entry writes more than the file limit
// nor all of them more than the total, as the Report says and as the
// files on disk show; a refusal names an entry of the Report; no
// descriptor leaks.
func FuzzExtract(f *testing.F) {
	for i, s := range extractSeeds {
		// Each archive stopping at its first refusal, and with
		// SkipRefused and Replace, so that later entries run too.
		f.Add(byte(i), extractTar(s))
		f.Add(byte(i)|12|32, extractTar(s))
		f.Add(byte(i*7), extractZip(s))
		f.Add(byte(i*7)|12, extractZip(s))
	}
	f.Fuzz(func(t *testing.T, sel byte, data []byte) {
		base := testfs.New(t, extractTree...)
		testfs.Make(t, base, "root/abs => "+filepath.Join(base, "out"))
		dir, out := filepath.Join(base, "root"), filepath.Join(base, "out")
		before := testfs.Snapshot(t, out)

		opts := []extract.Option{extract.WithLimits(extractLimits)}
		switch sel & 3 {
		case 1:
			opts = append(opts, extract.LinkVerbatim())
		case 2:
			opts = append(opts, extract.LinkDeny())
		}
		if sel&4 != 0 {
			opts = append(opts, extract.Replace())
		}
		if sel&8 != 0 {
			opts = append(opts, extract.SkipRefused())
		}
		if sel&16 != 0 {
			opts = append(opts, extract.WithSpecialFiles())
		}
		backend := confine.ResolverOpenat2
		if sel&32 != 0 {
			backend = confine.ResolverWalk
		}
		r, err := confine.OpenRoot(dir, confine.WithResolver(backend))
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()

		fds := countFDs()
		var rep *extract.Report
		if bytes.HasPrefix(data, []byte("PK")) {
			rep, err = extract.Zip(r, bytes.NewReader(data), int64(len(data)), opts...)
		} else {
			rep, err = extract.Tar(r, bytes.NewReader(data), opts...)
		}
		if n := countFDs(); n != fds {
			t.Errorf("descriptors: %d before, %d after", fds, n)
		}

		if rep == nil {
			t.Fatalf("nil Report, error %v", err)
		}
		var pe *fs.PathError
		if errors.As(err, &pe) && pe.Op == "extract" && !slices.ContainsFunc(rep.Entries, func(e extract.Entry) bool { return e.Name == pe.Path }) {
			// Directory modes applied at the end name a directory the
			// extraction made; anything else must be a Report line.
			if fi, serr := os.Lstat(filepath.Join(dir, pe.Path)); serr != nil || !fi.IsDir() {
				t.Errorf("error %v names no entry of the Report", err)
			}
		}
		if rep.Written > extractLimits.TotalSize {
			t.Errorf("Report: %d bytes written, over %d", rep.Written, extractLimits.TotalSize)
		}
		for _, e := range rep.Entries {
			if e.Size > extractLimits.FileSize {
				t.Errorf("Report: %q: %d bytes, over %d", e.Name, e.Size, extractLimits.FileSize)
			}
		}

		// Outside: only root and out, out as it was.
		if des, err := os.ReadDir(base); err != nil || len(des) != 2 {
			t.Errorf("beside the root: %v, %v", des, err)
		}
		if got := testfs.Snapshot(t, out); !maps.Equal(got, before) {
			t.Errorf("outside the root changed: %v, was %v", got, before)
		}
		// Inside: what is on disk is within the limits (each inode once).
		seen := map[uint64]bool{}
		var total int64
		filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return nil
			}
			if d.IsDir() {
				os.Chmod(p, 0o755) // so that TempDir's cleanup can enter
			}
			fi, err := os.Lstat(p)
			if err != nil || !fi.Mode().IsRegular() {
				return nil
			}
			if ino := fi.Sys().(*syscall.Stat_t).Ino; !seen[ino] {
				seen[ino] = true
				total += fi.Size()
			}
			if fi.Size() > extractLimits.FileSize {
				t.Errorf("%s: %d bytes, over %d", p, fi.Size(), extractLimits.FileSize)
			}
			return nil
		})
		if total > extractLimits.TotalSize {
			t.Errorf("root: %d bytes in all, over %d", total, extractLimits.TotalSize)
		}
	})
}
