//go:build linux && !pathguard_osroot

package confine_test

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/pathguard/pathguard/confine"
	"github.com/pathguard/pathguard/internal/testfs"
)

// idRead opens id on r and returns the file's contents.
func idRead(r *confine.Root, id confine.FileID) (string, error) {
	f, err := r.OpenID(id)
	if err != nil {
		return "", err
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	return string(b), err
}

// idMust identifies name on r or fails the test.
func idMust(t *testing.T, r *confine.Root, name string) confine.FileID {
	t.Helper()
	id, err := r.Identify(name)
	if err != nil {
		t.Fatalf("Identify(%q) = %v", name, err)
	}
	return id
}

// Identify records where a name really leads; OpenID opens that very
// file again, even after it was renamed away and back or rewritten in
// place, since it is still the same file.
func TestIdentifyOpenID(t *testing.T) {
	opsEach(t, func(t *testing.T, c opsConfig) {
		dir := testfs.New(t, "d/f=hello", "l => d/f", "dl => d", "d/up => ../d/f")
		r := opsOpen(t, dir, c)
		for name, want := range map[string]string{"d/f": "d/f", "l": "d/f", "dl/f": "d/f", "d/up": "d/f", "d/./f": "d/f", ".": ".", "dl": "d"} {
			id := idMust(t, r, name)
			if id.Path() != want {
				t.Errorf("Identify(%q).Path() = %q, want %q", name, id.Path(), want)
			}
		}
		id := idMust(t, r, "l")
		if got, err := idRead(r, id); err != nil || got != "hello" {
			t.Fatalf("OpenID(%v) = %q, %v, want hello", id, got, err)
		}
		// The same file under another name, then back: still that file.
		if err := os.Rename(filepath.Join(dir, "d/f"), filepath.Join(dir, "g")); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(filepath.Join(dir, "g"), filepath.Join(dir, "d/f")); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "d/f"), []byte("rewritten"), 0o644); err != nil {
			t.Fatal(err)
		}
		if got, err := idRead(r, id); err != nil || got != "rewritten" {
			t.Errorf("OpenID after rename away and back, rewrite in place = %q, %v, want rewritten", got, err)
		}
		// A directory is opened as one.
		f, err := r.OpenID(idMust(t, r, "dl"))
		if err != nil {
			t.Fatalf("OpenID(dir) = %v", err)
		}
		names, err := f.Readdirnames(-1)
		f.Close()
		if err != nil || len(names) != 2 {
			t.Errorf("OpenID(dir).Readdirnames = %v, %v, want f and up", names, err)
		}
		if _, err := r.Identify("missing"); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("Identify(missing) = %v, want fs.ErrNotExist", err)
		}
	})
}

// Whatever happens to the file at the identified path, OpenID returns
// it only if it is still the same file: anything else is ErrChanged, and
// nothing outside the root is ever read.
func TestOpenIDChanged(t *testing.T) {
	const secret = "OUTSIDE-SECRET"
	type change struct {
		name   string
		do     func(t *testing.T, base string)
		alsoIs error // what else the error must match, besides ErrChanged
	}
	root := func(base string, p string) string { return filepath.Join(base, "root", p) }
	changes := []change{
		{"removed", func(t *testing.T, base string) { must(t, os.Remove(root(base, "d/f"))) }, fs.ErrNotExist},
		{"replaced by rename", func(t *testing.T, base string) { must(t, os.Rename(root(base, "other"), root(base, "d/f"))) }, nil},
		{"replaced by a new file", func(t *testing.T, base string) {
			must(t, os.Remove(root(base, "d/f")))
			must(t, os.WriteFile(root(base, "d/f"), []byte("new"), 0o644))
		}, nil},
		{"replaced by a link inside", func(t *testing.T, base string) {
			must(t, os.Remove(root(base, "d/f")))
			must(t, os.Symlink("../other", root(base, "d/f")))
		}, nil},
		{"directory replaced by an outward link", func(t *testing.T, base string) {
			must(t, os.Rename(root(base, "d"), root(base, "old")))
			must(t, os.Symlink("../outside", root(base, "d")))
		}, nil},
		{"directory replaced by an absolute link", func(t *testing.T, base string) {
			must(t, os.Rename(root(base, "d"), root(base, "old")))
			must(t, os.Symlink(filepath.Join(base, "outside"), root(base, "d")))
		}, nil},
		{"parent made a file", func(t *testing.T, base string) {
			must(t, os.Rename(root(base, "d"), root(base, "old")))
			must(t, os.WriteFile(root(base, "d"), nil, 0o644))
		}, syscall.ENOTDIR},
	}
	opsEach(t, func(t *testing.T, c opsConfig) {
		for _, ch := range changes {
			t.Run(ch.name, func(t *testing.T) {
				base := testfs.New(t, "outside/f="+secret, "root/d/f=inside", "root/other=other")
				before := opsWorld(t, filepath.Join(base, "outside"))
				r := opsOpen(t, filepath.Join(base, "root"), c)
				id := idMust(t, r, "d/f")
				ch.do(t, base)
				got, err := idRead(r, id)
				if !errors.Is(err, confine.ErrChanged) {
					t.Errorf("OpenID after %s = %q, %v, want ErrChanged", ch.name, got, err)
				}
				if ch.alsoIs != nil && !errors.Is(err, ch.alsoIs) {
					t.Errorf("OpenID after %s = %v, want it to match %v too", ch.name, err, ch.alsoIs)
				}
				if !errors.Is(err, fs.ErrNotExist) {
					t.Errorf("OpenID after %s = %v, want fs.ErrNotExist (ErrChanged matches it)", ch.name, err)
				}
				opsPathError(t, "OpenID", err, "d/f")
				if strings.Contains(got, secret) {
					t.Errorf("OpenID after %s read the outside file", ch.name)
				}
				opsUnchanged(t, filepath.Join(base, "outside"), before)
			})
		}
	})
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// A file system gives the inode number of a deleted file to the next one
// it creates (ext4 does at once). A FileID must not match that newcomer:
// its birth time and file handle (generation number) differ. The test
// first forges the newcomer's identity (same device and inode, another
// birth time or handle), which works on every file system, then tries to
// get a real recycled inode number.
func TestOpenIDRecycledInode(t *testing.T) {
	opsEach(t, func(t *testing.T, c opsConfig) {
		dir := testfs.New(t, "f=first")
		r := opsOpen(t, dir, c)
		id := idMust(t, r, "f")
		text, err := id.MarshalText()
		if err != nil {
			t.Fatal(err)
		}
		fields := strings.SplitN(string(text), ":", 6)
		var forged []string
		if fields[3] != "-" {
			sec, ns, _ := strings.Cut(fields[3], ".")
			other := sec + "." + map[bool]string{true: "000000001", false: "000000000"}[ns == "000000000"]
			forged = append(forged, strings.Join([]string{fields[0], fields[1], fields[2], other, fields[4], fields[5]}, ":"))
			if fields[4] != "-" {
				// Birth time unknown where it was known: not the same
				// evidence, not the same file.
				forged = append(forged, strings.Join([]string{fields[0], fields[1], fields[2], "-", fields[4], fields[5]}, ":"))
			}
		}
		if fields[4] != "-" {
			typ, h, _ := strings.Cut(fields[4], ".")
			b := []byte(h)
			b[len(b)-1] = map[bool]byte{true: '1', false: '0'}[b[len(b)-1] == '0']
			forged = append(forged, strings.Join([]string{fields[0], fields[1], fields[2], fields[3], typ + "." + string(b), fields[5]}, ":"))
		}
		if len(forged) == 0 {
			t.Fatalf("FileID %s holds neither birth time nor handle", text)
		}
		for _, f := range forged {
			var fid confine.FileID
			if err := fid.UnmarshalText([]byte(f)); err != nil {
				t.Fatalf("UnmarshalText(%q) = %v", f, err)
			}
			if got, err := idRead(r, fid); !errors.Is(err, confine.ErrChanged) {
				t.Errorf("OpenID(%s), same device and inode as %s = %q, %v, want ErrChanged", f, text, got, err)
			}
		}

		// A real recycled inode number, where the file system gives one.
		var st unix.Stat_t
		must(t, unix.Stat(filepath.Join(dir, "f"), &st))
		must(t, os.Remove(filepath.Join(dir, "f")))
		for i := range 200 {
			p := filepath.Join(dir, "f")
			must(t, os.WriteFile(p, []byte("newcomer"), 0o644))
			var nst unix.Stat_t
			must(t, unix.Stat(p, &nst))
			if nst.Ino == st.Ino && nst.Dev == st.Dev {
				if got, err := idRead(r, id); !errors.Is(err, confine.ErrChanged) {
					t.Errorf("OpenID of a recycled inode number %d (try %d) = %q, %v, want ErrChanged", st.Ino, i, got, err)
				}
				return
			}
			// Keep the one made, so the next file gets another number.
			must(t, os.Rename(p, filepath.Join(dir, "k"+strconv.Itoa(i))))
		}
		t.Logf("no inode number recycled in 200 files on this file system; the forged identities stand in")
	})
}

// A FIFO planted and identified is not opened by OpenID (that would block
// for a writer): ErrSpecialFile, at once.
func TestOpenIDSpecialFile(t *testing.T) {
	opsEach(t, func(t *testing.T, c opsConfig) {
		dir := t.TempDir()
		must(t, unix.Mkfifo(filepath.Join(dir, "fifo"), 0o644))
		r := opsOpen(t, dir, c)
		id := idMust(t, r, "fifo")
		done := make(chan error, 1)
		go func() {
			f, err := r.OpenID(id)
			if err == nil {
				f.Close()
			}
			done <- err
		}()
		select {
		case err := <-done:
			if !errors.Is(err, confine.ErrSpecialFile) || !errors.Is(err, fs.ErrPermission) {
				t.Errorf("OpenID(fifo) = %v, want ErrSpecialFile (and fs.ErrPermission)", err)
			}
		case <-time.After(20 * time.Second):
			// Unblock the open so the goroutine ends.
			if f, err := os.OpenFile(filepath.Join(dir, "fifo"), os.O_WRONLY, 0); err == nil {
				f.Close()
			}
			t.Fatal("OpenID(fifo) blocked: the FIFO was opened")
		}
	})
}

// The identified file and an outward link are exchanged while OpenID is
// called again and again: each call returns the inside file or
// ErrChanged, never the outside one. It runs until both outcomes were
// seen a number of times (bounded by a generous deadline).
func TestOpenIDRace(t *testing.T) {
	const secret = "OUTSIDE-SECRET"
	opsEach(t, func(t *testing.T, c opsConfig) {
		base := testfs.New(t, "outside/f="+secret, "root/d/f=inside", "root/swap => ../outside")
		rootDir := filepath.Join(base, "root")
		r := opsOpen(t, rootDir, c)
		id := idMust(t, r, "d/f")
		swap := testfs.Exchange(t, filepath.Join(rootDir, "d"), filepath.Join(rootDir, "swap"))
		var served, refused int
		deadline := time.Now().Add(60 * time.Second)
		for (served < 50 || refused < 50 || swap.Swaps() < 100) && time.Now().Before(deadline) {
			got, err := idRead(r, id)
			switch {
			case err == nil && got == "inside":
				served++
			case errors.Is(err, confine.ErrChanged):
				refused++
			default:
				t.Errorf("OpenID during the exchange = %q, %v", got, err)
			}
			if strings.Contains(got, secret) {
				t.Fatalf("OpenID during the exchange read the outside file")
			}
		}
		swaps := swap.Stop()
		if served < 50 || refused < 50 {
			t.Errorf("race not exercised: %d served, %d refused, %d swaps", served, refused, swaps)
		}
	})
}

// The text form: versioned, stable, one text per FileID, strict.
func TestFileIDText(t *testing.T) {
	dir := testfs.New(t, "a:b/c\nd=x", "sp ace=y")
	r := opsOpen(t, dir, opsConfigs[0])
	for _, name := range []string{"a:b/c\nd", "sp ace", "."} {
		id := idMust(t, r, name)
		text, err := id.MarshalText()
		if err != nil {
			t.Fatalf("MarshalText(%q) = %v", name, err)
		}
		if !strings.HasPrefix(string(text), "v1:") || !strings.HasSuffix(string(text), ":"+name) {
			t.Errorf("MarshalText(%q) = %q, want v1:...:%s", name, text, name)
		}
		var back confine.FileID
		if err := back.UnmarshalText(text); err != nil || back != id {
			t.Errorf("UnmarshalText(%q) = %v, %v, want %v", text, back, err, id)
		}
		if got, err := idRead(r, back); name != "." && (err != nil || got == "") {
			t.Errorf("OpenID(UnmarshalText(%q)) = %q, %v", text, got, err)
		}
		if again, _ := back.MarshalText(); string(again) != string(text) {
			t.Errorf("MarshalText not stable: %q then %q", text, again)
		}
	}
	if _, err := (confine.FileID{}).MarshalText(); !errors.Is(err, confine.ErrInvalid) {
		t.Errorf("MarshalText(zero FileID) = %v, want ErrInvalid", err)
	}
	bad := []string{
		"",
		"v1",
		"v2:1:2:3.000000000:-:f",
		"v1:1:2:-:-:f",            // neither birth time nor handle
		"v1:01:2:3.000000000:-:f", // leading zero
		"v1:+1:2:3.000000000:-:f",
		"v1:1:2:3.00000000:-:f", // eight digits
		"v1:1:2:3.1000000000:-:f",
		"v1:1:2:3.000000000:1.AB:f", // upper-case hex
		"v1:1:2:3.000000000:1.:f",
		"v1:1:2:3.000000000:1.abc:f", // odd hex
		"v1:1:2:3.000000000:-:",
		"v1:1:2:3.000000000:-:/etc/passwd",
		"v1:1:2:3.000000000:-:../f",
		"v1:1:2:3.000000000:-:..",
		"v1:1:2:3.000000000:-:a/../f",
		"v1:1:2:3.000000000:-:a//f",
		"v1:1:2:3.000000000:-:a/",
		"v1:1:2:3.000000000:-:./a",
		"v1:1:2:3.000000000:-:a\x00b",
		"v1:1:2:3.000000000:-:" + strings.Repeat("x", 256),
		"v1:1:2:3.000000000:1." + strings.Repeat("ab", 129) + ":f",
		"v1:18446744073709551616:2:3.000000000:-:f",
	}
	for _, b := range bad {
		id := idMust(t, r, "sp ace")
		if err := id.UnmarshalText([]byte(b)); !errors.Is(err, confine.ErrInvalid) {
			t.Errorf("UnmarshalText(%q) = %v, want ErrInvalid", b, err)
		}
		if id != idMust(t, r, "sp ace") {
			t.Errorf("UnmarshalText(%q) changed the FileID it refused", b)
		}
	}
	var ok confine.FileID
	if err := ok.UnmarshalText([]byte("v1:1:2:-:1.ab:f")); err != nil || ok.Path() != "f" {
		t.Errorf("UnmarshalText(handle only) = %v, %v", ok, err)
	}
}

// The zero FileID names nothing: OpenID refuses it without a lookup.
func TestOpenIDZero(t *testing.T) {
	r := opsOpen(t, t.TempDir(), opsConfigs[0])
	if _, err := r.OpenID(confine.FileID{}); !errors.Is(err, confine.ErrInvalid) {
		t.Errorf("OpenID(zero) = %v, want ErrInvalid", err)
	}
}
