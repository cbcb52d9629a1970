package securepath

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/pathguard/pathguard/canon"
	"github.com/pathguard/pathguard/confine"
	"github.com/pathguard/pathguard/internal/testfs"
)

// fallbacks run each WriteFile test with O_TMPFILE and linkat
// AT_EMPTY_PATH available, and with each made to look missing.
var fallbacks = []struct {
	name              string
	noTmpfile, noLink bool
}{
	{"tmpfile", false, false},
	{"tmpfile+proclink", false, true},
	{"named", true, false},
}

// eachRoot runs f under both backends and every fallback, on a Root
// opened on a fresh tree.
func eachRoot(t *testing.T, entries []string, f func(t *testing.T, dir string, root *confine.Root)) {
	for _, b := range backends {
		for _, fb := range fallbacks {
			t.Run(b.name+"/"+fb.name, func(t *testing.T) {
				setFallback(t, fb.noTmpfile, fb.noLink)
				dir := testfs.New(t, append([]string{"root/"}, entries...)...)
				root, err := confine.OpenRoot(dir+"/root", b.opt)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { root.Close() })
				f(t, dir, root)
			})
		}
	}
}

func setFallback(t *testing.T, tmp, link bool) {
	oldTmp, oldLink := noTmpfile, noEmptyPathLink
	noTmpfile, noEmptyPathLink = tmp, link
	t.Cleanup(func() { noTmpfile, noEmptyPathLink = oldTmp, oldLink })
}

// onlyNames lists dir, failing on leftover temporary files.
func onlyNames(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), ".tmp") {
			t.Errorf("temporary file %s left in %s", e.Name(), dir)
		}
		names = append(names, e.Name())
	}
	return names
}

func wantFile(t *testing.T, p, data string, perm fs.FileMode) {
	t.Helper()
	fi, err := os.Lstat(p)
	if err != nil {
		t.Fatal(err)
	}
	if !fi.Mode().IsRegular() || fi.Mode().Perm() != perm {
		t.Errorf("%s: mode %v, want regular %v", p, fi.Mode(), perm)
	}
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != data {
		t.Errorf("%s holds %q, want %q", p, b, data)
	}
}

// TestCredentialFileAttack is the reported attack end to end: the output
// name is a planted link to a file the attacker owns and has opened; the
// write must not reach that file, through the name or through the fd.
func TestCredentialFileAttack(t *testing.T) {
	const secret = "4111 1111 1111 1111"
	eachRoot(t, []string{"attacker/loot=nothing yet", "root/out => ../attacker/loot", "root/in => loot2", "root/loot2=inside"},
		func(t *testing.T, dir string, root *confine.Root) {
			loot := dir + "/attacker/loot"
			if os.Geteuid() == 0 {
				// A real other user owns the bait, readable by all.
				if err := os.Chown(dir+"/attacker", nobody, nobody); err != nil {
					t.Fatal(err)
				}
				if err := os.Chown(loot, nobody, nobody); err != nil {
					t.Fatal(err)
				}
			}
			chmod(t, loot, 0o644)
			spy, err := os.Open(loot) // opened while it was 0644
			if err != nil {
				t.Fatal(err)
			}
			defer spy.Close()
			before := testfs.Snapshot(t, dir)

			for _, name := range []string{"out", "in"} { // outside and inside targets
				for _, mode := range []WriteMode{Replace, CreateOnly} {
					err := WriteFile(root, name, []byte(secret), 0o600, mode)
					if !errors.Is(err, confine.ErrSymlink) {
						t.Errorf("WriteFile(%s, mode %d) over a link = %v, want ErrSymlink", name, mode, err)
					}
					var pe *fs.PathError
					if !errors.As(err, &pe) || pe.Path != name {
						t.Errorf("WriteFile(%s) error %#v, want *fs.PathError on the name", name, err)
					}
				}
			}
			if got := readAll(t, spy); strings.Contains(got, secret) || got != "nothing yet" {
				t.Fatalf("the attacker's fd reads %q", got)
			}
			if after := testfs.Snapshot(t, dir); fmt.Sprint(after) != fmt.Sprint(before) {
				t.Fatalf("tree changed:\nbefore %v\nafter  %v", before, after)
			}
			onlyNames(t, dir+"/root")

			// The tool, told of the link, removes it and writes again:
			// the secret lands in a new file with exactly 0600.
			if err := os.Remove(dir + "/root/out"); err != nil {
				t.Fatal(err)
			}
			if err := WriteFile(root, "out", []byte(secret), 0o600, CreateOnly); err != nil {
				t.Fatal(err)
			}
			wantFile(t, dir+"/root/out", secret, 0o600)
			if _, err := spy.Seek(0, 0); err != nil {
				t.Fatal(err)
			}
			if got := readAll(t, spy); got != "nothing yet" {
				t.Fatalf("the attacker's fd reads %q", got)
			}
		})
}

func TestWriteFileModes(t *testing.T) {
	eachRoot(t, []string{"root/sub/", "root/old=old data", "outside=x", "root/up => ..", "root/dir/", "root/tolink => old"},
		func(t *testing.T, dir string, root *confine.Root) {
			// Exactly perm, whatever the umask.
			for i, perm := range []fs.FileMode{0o600, 0o640, 0o644, 0o777, 0o000, 0o604} {
				for _, mask := range []int{0o022, 0o077, 0o777, 0} {
					old := syscall.Umask(mask)
					name := fmt.Sprintf("sub/f%d-%o", i, mask)
					err := WriteFile(root, name, []byte("v"), perm, CreateOnly)
					syscall.Umask(old)
					if err != nil {
						t.Fatalf("WriteFile(%s, %v) = %v", name, perm, err)
					}
					fi, err := os.Lstat(dir + "/root/" + name)
					if err != nil {
						t.Fatal(err)
					}
					if fi.Mode() != perm {
						t.Errorf("WriteFile(%s, %v) under umask %o: mode %v", name, perm, mask, fi.Mode())
					}
					// Mode 0 would keep an ordinary user's snapshot out.
					if err := os.Remove(dir + "/root/" + name); err != nil {
						t.Fatal(err)
					}
				}
			}
			onlyNames(t, dir+"/root/sub")

			// CreateOnly never touches an existing file.
			err := WriteFile(root, "old", []byte("new"), 0o600, CreateOnly)
			if !errors.Is(err, fs.ErrExist) {
				t.Errorf("CreateOnly over a file = %v, want fs.ErrExist", err)
			}
			wantFile(t, dir+"/root/old", "old data", 0o644)

			// Replace does, atomically, with the new mode.
			if err := WriteFile(root, "old", []byte("new data"), 0o640, Replace); err != nil {
				t.Fatal(err)
			}
			wantFile(t, dir+"/root/old", "new data", 0o640)
			// Replace of a missing name creates it.
			if err := WriteFile(root, "sub/fresh", []byte("fresh"), 0o600, Replace); err != nil {
				t.Fatal(err)
			}
			wantFile(t, dir+"/root/sub/fresh", "fresh", 0o600)

			if err := syscall.Mkfifo(dir+"/root/fifo", 0o600); err != nil {
				t.Fatal(err)
			}
			before := testfs.Snapshot(t, dir)
			for _, tc := range []struct {
				name string
				perm fs.FileMode
				mode WriteMode
				want error
			}{
				{"dir", 0o600, Replace, ErrNotRegular},
				{"dir", 0o600, CreateOnly, ErrNotRegular},
				{"fifo", 0o600, Replace, ErrNotRegular},
				{"tolink", 0o600, Replace, confine.ErrSymlink},
				{"../outside", 0o600, Replace, confine.ErrEscape},
				{"up/outside", 0o600, Replace, confine.ErrEscape},
				{"/etc/passwd", 0o600, Replace, confine.ErrEscape},
				{"..", 0o600, Replace, confine.ErrEscape},
				{"sub/..", 0o600, Replace, syscall.EISDIR},
				{"sub/", 0o600, Replace, syscall.EISDIR},
				{"x", 0o4600, CreateOnly, canon.ErrInvalid},
				{"x", fs.ModeSticky | 0o600, CreateOnly, canon.ErrInvalid},
				{"x", 0o600, 0, canon.ErrInvalid},
				{"x", 0o600, 7, canon.ErrInvalid},
				{"", 0o600, Replace, canon.ErrInvalid},
				{"a\x00b", 0o600, Replace, canon.ErrInvalid},
				{"missing/x", 0o600, Replace, fs.ErrNotExist},
			} {
				err := WriteFile(root, tc.name, []byte("secret"), tc.perm, tc.mode)
				if !errors.Is(err, tc.want) {
					t.Errorf("WriteFile(%q, %v, %d) = %v, want %v", tc.name, tc.perm, tc.mode, err, tc.want)
				}
			}
			if after := testfs.Snapshot(t, dir); fmt.Sprint(after) != fmt.Sprint(before) {
				t.Errorf("refused writes changed the tree:\nbefore %v\nafter  %v", before, after)
			}
			onlyNames(t, dir+"/root")
		})
}

// TestWriteFileErrorPath: whichever step fails, the error is one
// *fs.PathError with WriteFile's op and the caller's own name, never the
// path of an inner step such as the parent directory.
func TestWriteFileErrorPath(t *testing.T) {
	eachRoot(t, []string{"outside=x", "root/file=f", "root/up => .."}, func(t *testing.T, dir string, root *confine.Root) {
		for _, tc := range []struct {
			name string
			perm fs.FileMode
			want error
		}{
			{"missing/secret", 0o600, fs.ErrNotExist},
			{"missing/deeper/secret", 0o600, fs.ErrNotExist},
			{"file/secret", 0o600, syscall.ENOTDIR},
			{"../secret", 0o600, confine.ErrEscape},
			{"up/secret", 0o600, confine.ErrEscape},
			{"/etc/secret", 0o600, confine.ErrEscape},
			{"secret", 0o4600, canon.ErrInvalid},
		} {
			err := WriteFile(root, tc.name, []byte("s"), tc.perm, Replace)
			if !errors.Is(err, tc.want) {
				t.Errorf("WriteFile(%q, %v) = %v, want %v", tc.name, tc.perm, err, tc.want)
			}
			var pe *fs.PathError
			if !errors.As(err, &pe) {
				t.Errorf("WriteFile(%q) error %#v, want *fs.PathError", tc.name, err)
				continue
			}
			if pe.Op != "writefile" || pe.Path != tc.name {
				t.Errorf("WriteFile(%q) error op %q path %q, want op %q path %q", tc.name, pe.Op, pe.Path, "writefile", tc.name)
			}
			var inner *fs.PathError
			if errors.As(pe.Err, &inner) {
				t.Errorf("WriteFile(%q) error %v wraps another *fs.PathError", tc.name, err)
			}
		}
		onlyNames(t, dir+"/root")
	})
}

// TestWriteFileDirectoryNames: a name whose last component is "." or
// "..", or that ends in a slash, names a directory. It is resolved
// through the Root like any other name, so only the Root's mode decides
// whether it escapes: in InRoot ".." is the root itself and the answer is
// EISDIR, never ErrEscape.
func TestWriteFileDirectoryNames(t *testing.T) {
	type dirCase struct {
		name    string
		beneath error // want, in the default Beneath mode
		inRoot  error // want, in InRoot
	}
	cases := []dirCase{
		{".", syscall.EISDIR, syscall.EISDIR},
		{"./", syscall.EISDIR, syscall.EISDIR},
		{"..", confine.ErrEscape, syscall.EISDIR},
		{"../", confine.ErrEscape, syscall.EISDIR},
		{"../..", confine.ErrEscape, syscall.EISDIR},
		{"/", confine.ErrEscape, syscall.EISDIR},
		{"/..", confine.ErrEscape, syscall.EISDIR},
		{"sub/..", syscall.EISDIR, syscall.EISDIR},
		{"sub/../..", confine.ErrEscape, syscall.EISDIR},
		{"sub/.", syscall.EISDIR, syscall.EISDIR},
		{"sub/", syscall.EISDIR, syscall.EISDIR},
		{"up/..", confine.ErrEscape, syscall.EISDIR},
		{"up/", confine.ErrEscape, syscall.EISDIR},
		{"file/", syscall.ENOTDIR, syscall.ENOTDIR},
		{"file/..", syscall.ENOTDIR, syscall.ENOTDIR},
		{"missing/..", fs.ErrNotExist, fs.ErrNotExist},
	}
	modes := []struct {
		name string
		opts []confine.Option
		want func(dirCase) error
	}{
		{"beneath", nil, func(c dirCase) error { return c.beneath }},
		{"inroot", []confine.Option{confine.InRoot()}, func(c dirCase) error { return c.inRoot }},
	}
	for _, b := range backends {
		for _, m := range modes {
			t.Run(b.name+"/"+m.name, func(t *testing.T) {
				dir := testfs.New(t, "root/", "root/sub/", "root/file=f", "root/up => ..")
				root, err := confine.OpenRoot(dir+"/root", append(m.opts, b.opt)...)
				if err != nil {
					t.Fatal(err)
				}
				defer root.Close()
				before := testfs.Snapshot(t, dir)
				for _, c := range cases {
					for _, mode := range []WriteMode{Replace, CreateOnly} {
						err := WriteFile(root, c.name, []byte("secret"), 0o600, mode)
						if want := m.want(c); !errors.Is(err, want) {
							t.Errorf("WriteFile(%q, mode %d) = %v, want %v", c.name, mode, err, want)
						}
						var pe *fs.PathError
						if !errors.As(err, &pe) || pe.Op != "writefile" || pe.Path != c.name {
							t.Errorf("WriteFile(%q) error %#v, want *fs.PathError on the name", c.name, err)
						}
					}
				}
				if after := testfs.Snapshot(t, dir); fmt.Sprint(after) != fmt.Sprint(before) {
					t.Errorf("refused writes changed the tree:\nbefore %v\nafter  %v", before, after)
				}
			})
		}
	}
}

// TestWriteFileSymlinkRace swaps a link to a bait file in at the name, by
// rename, as fast as it can while WriteFile(Replace) runs: the bait must
// never receive the secret, and every call must either succeed, refuse
// the link, or find that the name no longer holds its file (ErrInsecure:
// the attacker renamed over or removed it right after the publishing).
func TestWriteFileSymlinkRace(t *testing.T) {
	eachRoot(t, []string{"bait=bait", "root/"}, func(t *testing.T, dir string, root *confine.Root) {
		stop := make(chan struct{})
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			tmp := dir + "/root/.swap"
			for {
				select {
				case <-stop:
					return
				default:
				}
				// Plant the link over whatever is there, then take it
				// away again, so WriteFile's own check sometimes passes
				// and the link comes back between that check and the
				// publishing step.
				_ = os.Remove(tmp)
				if err := os.Symlink("../bait", tmp); err == nil {
					_ = os.Rename(tmp, dir+"/root/secret")
				}
				_ = os.Remove(dir + "/root/secret")
			}
		}()
		deadline := time.Now().Add(300 * time.Millisecond)
		var wrote, refused int
		for time.Now().Before(deadline) {
			err := WriteFile(root, "secret", []byte("hunter2"), 0o600, Replace)
			switch {
			case err == nil:
				wrote++
			case errors.Is(err, confine.ErrSymlink), errors.Is(err, ErrInsecure):
				refused++
			default:
				t.Errorf("WriteFile during the race = %v", err)
			}
		}
		close(stop)
		wg.Wait()
		if b, err := os.ReadFile(dir + "/bait"); err != nil || string(b) != "bait" {
			t.Fatalf("bait holds %q, %v: written through the link", b, err)
		}
		t.Logf("wrote %d, refused %d", wrote, refused)
		if wrote == 0 {
			t.Errorf("no write got through in the race window: the test raced nothing")
		}
	})
}

// TestWriteFileTmpSwap is the attack on the publishing step: in a
// directory they can write, the attacker renames a link (or a file) of
// their own over the temporary name between its creation and the rename
// (or linkat) that publishes it. WriteFile must not report success for
// their entry at the name, must not remove it, and must leave no
// temporary file of its own.
func TestWriteFileTmpSwap(t *testing.T) {
	for _, planted := range []string{"link", "file"} {
		for _, mode := range []WriteMode{Replace, CreateOnly} {
			t.Run(fmt.Sprintf("%s/mode%d", planted, mode), func(t *testing.T) {
				eachRoot(t, []string{"bait=bait", "root/sub/"}, func(t *testing.T, dir string, root *confine.Root) {
					sub := dir + "/root/sub"
					swapped := false
					setBeforePublish(t, func(tmp string) {
						side := dir + "/planted"
						var err error
						if planted == "link" {
							err = os.Symlink("../../bait", side)
						} else {
							err = os.WriteFile(side, []byte("theirs"), 0o644)
						}
						if err != nil {
							t.Error(err)
							return
						}
						if err := os.Rename(side, sub+"/"+tmp); err != nil {
							t.Error(err)
							return
						}
						swapped = true
					})
					err := WriteFile(root, "sub/secret", []byte("hunter2"), 0o600, mode)
					if !swapped {
						// CreateOnly with O_TMPFILE links by fd: there is
						// no temporary name to swap.
						if mode != CreateOnly || noTmpfile {
							t.Fatal("the hook never ran")
						}
						if err != nil {
							t.Fatal(err)
						}
						wantFile(t, sub+"/secret", "hunter2", 0o600)
						return
					}
					if !errors.Is(err, ErrInsecure) {
						t.Fatalf("WriteFile with its temporary file swapped = %v, want ErrInsecure", err)
					}
					var pe *fs.PathError
					if !errors.As(err, &pe) || pe.Op != "writefile" || pe.Path != "sub/secret" {
						t.Errorf("WriteFile error %#v, want *fs.PathError on sub/secret", err)
					}
					// Their entry is at the name, untouched; ours is gone.
					fi, err := os.Lstat(sub + "/secret")
					if err != nil {
						t.Fatalf("the entry at the name was removed: %v", err)
					}
					if isLink := fi.Mode()&fs.ModeSymlink != 0; isLink != (planted == "link") {
						t.Errorf("name holds %v, want the planted %s", fi.Mode(), planted)
					}
					if b, err := os.ReadFile(dir + "/bait"); err != nil || string(b) != "bait" {
						t.Errorf("bait holds %q, %v", b, err)
					}
					// A temporary name left behind must be the attacker's
					// entry (CreateOnly linked it at the name too), never
					// a file of ours.
					ents, err := os.ReadDir(sub)
					if err != nil {
						t.Fatal(err)
					}
					for _, e := range ents {
						if e.Name() == "secret" {
							continue
						}
						lfi, err := os.Lstat(sub + "/" + e.Name())
						if err != nil {
							t.Fatal(err)
						}
						if !os.SameFile(lfi, fi) {
							t.Errorf("entry %s left in %s is not the attacker's", e.Name(), sub)
						}
					}
				})
			})
		}
	}
}

// TestWriteFileTmpSwapRace races the same attack for real: an attacker
// lists the directory and renames a link over every temporary name it
// sees. WriteFile must either fail with ErrInsecure or leave its own file
// at the name, never the attacker's link.
func TestWriteFileTmpSwapRace(t *testing.T) {
	eachRoot(t, []string{"bait=bait", "root/"}, func(t *testing.T, dir string, root *confine.Root) {
		stop := make(chan struct{})
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			side := dir + "/side"
			for {
				select {
				case <-stop:
					return
				default:
				}
				ents, _ := os.ReadDir(dir + "/root")
				for _, e := range ents {
					if strings.HasPrefix(e.Name(), ".secret.") {
						_ = os.Remove(side)
						if os.Symlink("../bait", side) == nil {
							_ = os.Rename(side, dir+"/root/"+e.Name())
						}
					}
				}
			}
		}()
		deadline := time.Now().Add(300 * time.Millisecond)
		var wrote, caught int
		for time.Now().Before(deadline) {
			err := WriteFile(root, "secret", []byte("hunter2"), 0o600, Replace)
			switch {
			case err == nil:
				wrote++
				// The attacker never touches the name itself: after a
				// success it must hold our file.
				fi, err := os.Lstat(dir + "/root/secret")
				if err != nil || !fi.Mode().IsRegular() {
					t.Fatalf("WriteFile returned nil but the name holds %v, %v", fi, err)
				}
			case errors.Is(err, ErrInsecure):
				caught++
				_ = os.Remove(dir + "/root/secret")
			default:
				t.Fatalf("WriteFile during the race = %v", err)
			}
		}
		close(stop)
		wg.Wait()
		if b, err := os.ReadFile(dir + "/bait"); err != nil || string(b) != "bait" {
			t.Fatalf("bait holds %q, %v: written through the link", b, err)
		}
		t.Logf("wrote %d, caught %d swaps", wrote, caught)
	})
}

// TestWriteFileReaderSeesWholeFiles reads the name while it is replaced
// over and over: every read is one whole version, with exactly its mode.
func TestWriteFileReaderSeesWholeFiles(t *testing.T) {
	eachRoot(t, nil, func(t *testing.T, dir string, root *confine.Root) {
		versions := [][]byte{bytes.Repeat([]byte("a"), 32<<10), bytes.Repeat([]byte("b"), 32<<10)}
		const perm = 0o640
		if err := WriteFile(root, "f", versions[0], perm, CreateOnly); err != nil {
			t.Fatal(err)
		}
		var done, stop atomic.Bool
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer done.Store(true)
			for i := 0; i < 24 && !stop.Load(); i++ {
				old := syscall.Umask(0o022)
				err := WriteFile(root, "f", versions[i%2], perm, Replace)
				syscall.Umask(old)
				if err != nil {
					t.Errorf("WriteFile = %v", err)
					return
				}
			}
		}()
		reads := 0
		var bad error
		for !done.Load() && bad == nil {
			bad = func() error {
				f, err := os.Open(dir + "/root/f")
				if err != nil {
					return fmt.Errorf("open during replace: %v", err)
				}
				defer f.Close()
				fi, err := f.Stat()
				if err != nil {
					return err
				}
				b, err := io.ReadAll(f)
				if err != nil {
					return err
				}
				reads++
				if fi.Mode() != perm {
					return fmt.Errorf("reader saw mode %v, want %v", fi.Mode(), fs.FileMode(perm))
				}
				if !bytes.Equal(b, versions[0]) && !bytes.Equal(b, versions[1]) {
					return fmt.Errorf("reader saw a partial or mixed file of %d bytes", len(b))
				}
				return nil
			}()
		}
		stop.Store(true)
		wg.Wait()
		if bad != nil {
			t.Fatal(bad)
		}
		t.Logf("%d reads", reads)
		onlyNames(t, dir+"/root")
	})
}

// TestWriteFileUnprivileged runs WriteFile as an ordinary user, where
// linkat(AT_EMPTY_PATH) is refused and /proc/self/fd is the way.
func TestWriteFileUnprivileged(t *testing.T) {
	if os.Geteuid() != 0 {
		// Already unprivileged: the path under test is the normal one.
		setFallback(t, false, false)
		dir := t.TempDir()
		root, err := confine.OpenRoot(dir)
		if err != nil {
			t.Fatal(err)
		}
		defer root.Close()
		if err := WriteFile(root, "new", []byte("created"), 0o640, CreateOnly); err != nil {
			t.Fatal(err)
		}
		wantFile(t, dir+"/new", "created", 0o640)
		return
	}
	base := openTempDir(t)
	dir := filepath.Join(base, "home")
	mkdir(t, dir, 0o700, nobody, nobody)
	if err := os.WriteFile(dir+"/old", []byte("old"), 0o666); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(dir+"/old", nobody, nobody); err != nil {
		t.Fatal(err)
	}
	if got := runAs(t, "write", dir); got != "OK" {
		t.Fatalf("WriteFile as nobody: %s", got)
	}
	wantFile(t, dir+"/new", "created", 0o640)
	wantFile(t, dir+"/old", "replaced", 0o604)
	for _, n := range []string{"new", "old"} {
		fi, err := os.Stat(dir + "/" + n)
		if err != nil {
			t.Fatal(err)
		}
		if st := fi.Sys().(*syscall.Stat_t); st.Uid != nobody {
			t.Errorf("%s owned by %d, want %d", n, st.Uid, nobody)
		}
	}
	onlyNames(t, dir)
}

// TestWriteFileCreateOnlyRace races CreateOnly against another creator
// of the same name: exactly one of them may win, and the file holds the
// winner's data.
func TestWriteFileCreateOnlyRace(t *testing.T) {
	eachRoot(t, nil, func(t *testing.T, dir string, root *confine.Root) {
		p := dir + "/root/f"
		deadline := time.Now().Add(150 * time.Millisecond)
		for n := 0; time.Now().Before(deadline) || n < 20; n++ {
			_ = os.Remove(p)
			var theirs error
			var wg sync.WaitGroup
			wg.Add(1)
			go func() {
				defer wg.Done()
				f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
				if theirs = err; err == nil {
					_, theirs = f.WriteString("theirs")
					f.Close()
				}
			}()
			ours := WriteFile(root, "f", []byte("ours"), 0o600, CreateOnly)
			wg.Wait()
			if ours != nil && !errors.Is(ours, fs.ErrExist) {
				t.Fatalf("WriteFile = %v", ours)
			}
			if (ours == nil) == (theirs == nil) {
				t.Fatalf("round %d: WriteFile = %v, their O_EXCL create = %v: want exactly one winner", n, ours, theirs)
			}
			want := "theirs"
			if ours == nil {
				want = "ours"
			}
			if b, err := os.ReadFile(p); err != nil || string(b) != want {
				t.Fatalf("round %d: file holds %q, %v; want %q", n, b, err, want)
			}
		}
	})
}
