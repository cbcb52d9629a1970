package main

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pathguard/pathguard/internal/testfs"
)

// runArchiveCmd runs the archive subcommand in-process.
func runArchiveCmd(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = runArchive(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

// writeTar writes a tar of name/body pairs (a body "->X" makes a symlink
// to X) to file, gzipped when gz.
func writeTar(t *testing.T, file string, gz bool, pairs ...string) {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for i := 0; i < len(pairs); i += 2 {
		h := &tar.Header{Name: pairs[i], Mode: 0o644, Typeflag: tar.TypeReg, Size: int64(len(pairs[i+1]))}
		body := pairs[i+1]
		if target, ok := strings.CutPrefix(body, "->"); ok {
			h.Typeflag, h.Linkname, h.Size, body = tar.TypeSymlink, target, 0, ""
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		tw.Write([]byte(body))
	}
	tw.Close()
	data := buf.Bytes()
	if gz {
		var z bytes.Buffer
		zw := gzip.NewWriter(&z)
		zw.Write(data)
		zw.Close()
		data = z.Bytes()
	}
	if err := os.WriteFile(file, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestArchiveScan(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.tar.gz")
	writeTar(t, bad, true, "ok", "x", "../evil", "x", "l", "->/etc", "l/passwd", "x", "../\x1b[2J", "x")
	before := testfs.Snapshot(t, dir)

	code, out, errOut := runArchiveCmd(t, bad)
	if code != exitFail || errOut != "" {
		t.Fatalf("archive bad.tar.gz = %d, stderr %q; want %d", code, errOut, exitFail)
	}
	for _, want := range []string{"refused  file     ../evil:", "refused  symlink  l:", `"../\x1b[2J"`, "5 entries, 3 refused, 0 skipped"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "\x1b") {
		t.Errorf("output holds a raw escape: %q", out)
	}
	if got := testfs.Snapshot(t, dir); !maps.Equal(got, before) {
		t.Errorf("a scan wrote: %v", got)
	}

	code, out, _ = runArchiveCmd(t, bad, "--json")
	var rep archiveReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil || code != exitFail {
		t.Fatalf("--json: %d, %v\n%s", code, err, out)
	}
	if rep.Format != "tar" || rep.Refused != 3 || len(rep.Entries) != 5 || rep.Entries[1].ErrorKind != "escape" {
		t.Errorf("--json: %+v", rep)
	}

	good := filepath.Join(dir, "good.tar")
	writeTar(t, good, false, "a/b", "x", "l", "->a/b")
	if code, out, _ := runArchiveCmd(t, good); code != exitOK {
		t.Errorf("archive good.tar = %d\n%s", code, out)
	}

	// A zip, told from its magic, not its name.
	var zb bytes.Buffer
	zw := zip.NewWriter(&zb)
	zw.Create("../zipslip")
	zw.Close()
	zf := filepath.Join(dir, "z.bin")
	os.WriteFile(zf, zb.Bytes(), 0o644)
	code, out, _ = runArchiveCmd(t, zf)
	if code != exitFail || !strings.Contains(out, "(zip)") || !strings.Contains(out, "../zipslip") {
		t.Errorf("archive z.bin = %d\n%s", code, out)
	}
}

func TestArchiveInto(t *testing.T) {
	base := t.TempDir()
	into := filepath.Join(base, "into")
	testfs.Make(t, base, "out/secret=canary", "into/pre => ../out")
	before := testfs.Snapshot(t, filepath.Join(base, "out"))
	bad := filepath.Join(base, "bad.tar")
	writeTar(t, bad, false, "ok", "x", "pre/secret", "pwned", "next", "y")

	code, out, _ := runArchiveCmd(t, bad, "--into", into)
	if code != exitFail || !strings.Contains(out, "refused  file     pre/secret:") {
		t.Errorf("archive --into = %d\n%s", code, out)
	}
	if _, err := os.Lstat(filepath.Join(into, "next")); err == nil {
		t.Error("the extraction went on past a refusal")
	}
	code, out, _ = runArchiveCmd(t, bad, "--into", into, "--skip", "--replace")
	if code != exitFail || !strings.Contains(out, "skipped  file     pre/secret:") {
		t.Errorf("archive --into --skip = %d\n%s", code, out)
	}
	if b, err := os.ReadFile(filepath.Join(into, "next")); err != nil || string(b) != "y" {
		t.Errorf("next: %q, %v", b, err)
	}
	if got := testfs.Snapshot(t, filepath.Join(base, "out")); !maps.Equal(got, before) {
		t.Errorf("outside changed: %v", got)
	}

	for _, args := range [][]string{
		{}, {bad, bad}, {bad, "--links", "sometimes"}, {bad, "--skip"}, {bad, "--into"}, {bad, "--bogus"},
	} {
		if code, _, errOut := runArchiveCmd(t, args...); code != exitUsage || !strings.Contains(errOut, "usage") {
			t.Errorf("archive %q = %d, %q; want a usage error", args, code, errOut)
		}
	}
	if code, out, _ := runArchiveCmd(t, "-h"); code != exitOK || !strings.HasPrefix(out, "usage: pathaudit archive") {
		t.Errorf("archive -h = %d, %q", code, out)
	}
	if code, _, _ := runArchiveCmd(t, filepath.Join(base, "missing.tar")); code != exitError {
		t.Errorf("a missing archive: %d, want %d", code, exitError)
	}
	if code, _, _ := runArchiveCmd(t, bad, "--into", filepath.Join(base, "missing")); code != exitError {
		t.Errorf("a missing DIR: %d, want %d", code, exitError)
	}
	// Reached from the top level, and listed in its usage.
	if code, out, _ := runCmd(t, "archive", bad); code != exitOK || !strings.Contains(out, "0 refused") {
		t.Errorf("pathaudit archive bad.tar = %d\n%s", code, out)
	}
	if _, out, _ := runCmd(t, "-h"); !strings.Contains(out, "pathaudit archive FILE") {
		t.Errorf("pathaudit -h does not list archive:\n%s", out)
	}
}
