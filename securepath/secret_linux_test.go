package securepath

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/pathguard/pathguard/confine"
	"github.com/pathguard/pathguard/internal/resolve"
)

// attacker is the uid that plants entries in the tests below: neither
// root nor the helper's nobody.
const attacker = 12345

// replaceRaced runs in a helper process as nobody: WriteFile with
// Replace into the directory arg, stopping just before the rename so that
// the parent can plant an entry of another user at the name. It prints
// READY, waits for a line on stdin, then prints how WriteFile failed.
func replaceRaced(arg string) {
	root, err := confine.OpenRoot(arg)
	if err != nil {
		fmt.Println("ERROR", err)
		return
	}
	defer root.Close()
	in := bufio.NewReader(os.Stdin)
	beforePublish = func(string) {
		fmt.Println("READY")
		in.ReadString('\n')
	}
	err = WriteFile(root, "out", []byte("secret"), 0o600, Replace)
	switch {
	case err == nil:
		fmt.Println("OK")
	case errors.Is(err, confine.ErrSymlink):
		fmt.Println("SYMLINK")
	case errors.Is(err, ErrInsecure):
		fmt.Println("INSECURE")
	case errors.Is(err, syscall.EPERM):
		fmt.Println("EPERM", err)
	default:
		fmt.Println("ERROR", err)
	}
}

// TestWriteFileReplaceStickyRace: in a sticky directory, an entry of
// another user raced in at the name before the rename makes the rename
// fail with EPERM (only the entry's owner may replace it there). The
// caller must learn why: ErrSymlink for a link, ErrInsecure for a file,
// never a bare "operation not permitted".
func TestWriteFileReplaceStickyRace(t *testing.T) {
	requireRoot(t)
	for _, tc := range []struct {
		plant string // "link" or "file"
		want  string
	}{{"link", "SYMLINK"}, {"file", "INSECURE"}} {
		t.Run(tc.plant, func(t *testing.T) {
			base := openTempDir(t)
			dir := base + "/sticky"
			mkdir(t, dir, 0o777|os.ModeSticky, 0, 0)
			bait := base + "/bait"
			if err := os.WriteFile(bait, []byte("bait"), 0o666); err != nil {
				t.Fatal(err)
			}
			cmd := helperCmd(t, "replace-raced", dir)
			stdin, err := cmd.StdinPipe()
			if err != nil {
				t.Fatal(err)
			}
			stdout, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			cmd.Stderr = os.Stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			out := bufio.NewReader(stdout)
			if line, err := out.ReadString('\n'); err != nil || line != "READY\n" {
				cmd.Process.Kill()
				cmd.Wait()
				t.Fatalf("helper said %q, %v; want READY", line, err)
			}
			name := filepath.Join(dir, "out")
			switch tc.plant {
			case "link":
				err = os.Symlink("../bait", name)
			default:
				err = os.WriteFile(name, []byte("theirs"), 0o644)
			}
			if err == nil {
				err = os.Lchown(name, attacker, attacker)
			}
			if err != nil {
				t.Fatal(err)
			}
			io.WriteString(stdin, "go\n")
			rest, _ := io.ReadAll(out)
			if err := cmd.Wait(); err != nil {
				t.Fatalf("helper: %v\n%s", err, rest)
			}
			if got := strings.TrimSpace(string(rest)); got != tc.want {
				t.Errorf("WriteFile(Replace) with %s of uid %d raced in = %s, want %s", tc.plant, attacker, got, tc.want)
			}
			if b, _ := os.ReadFile(bait); string(b) != "bait" {
				t.Errorf("the link's target now holds %q", b)
			}
		})
	}
}

// setgidDir makes base/sg: owned by root, mode 2755, group nobody. Nobody
// but root can write it, so Check calls it secure; files created in it
// take group nobody.
func setgidDir(t *testing.T) string {
	t.Helper()
	dir := openTempDir(t) + "/sg"
	mkdir(t, dir, 0o755, 0, nobody)
	chmod(t, dir, 0o755|os.ModeSetgid)
	return dir
}

// TestCheckNamesSetgidDir: Check's report names a setgid directory of a
// group the Policy does not trust, and keeps its verdict.
func TestCheckNamesSetgidDir(t *testing.T) {
	requireRoot(t)
	dir := setgidDir(t)
	rep, err := Check(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Err() != nil {
		t.Fatalf("Check(%s) = %v, want secure", dir, rep.Err())
	}
	if !reportHas(rep, fmt.Sprintf("setgid with group %d", nobody)) {
		t.Errorf("Check(%s) does not name the setgid directory:\n%s", dir, rep)
	}
	// A trusted group is not worth a note.
	rep, err = Check(dir, &Policy{TrustedGIDs: []int{nobody}})
	if err != nil {
		t.Fatal(err)
	}
	if reportHas(rep, "setgid") {
		t.Errorf("Check(%s) with group %d trusted still notes it:\n%s", dir, nobody, rep)
	}
}

// TestWriteFileSetgidDirOwnGroup: a secret written with group bits in a
// setgid directory of an untrusted group gets the caller's own group,
// not the directory's.
func TestWriteFileSetgidDirOwnGroup(t *testing.T) {
	requireRoot(t)
	for _, b := range backends {
		for _, fb := range fallbacks {
			t.Run(b.name+"/"+fb.name, func(t *testing.T) {
				setFallback(t, fb.noTmpfile, fb.noLink)
				dir := setgidDir(t)
				root, err := confine.OpenRoot(dir, b.opt)
				if err != nil {
					t.Fatal(err)
				}
				defer root.Close()
				if err := os.WriteFile(dir+"/old", []byte("old"), 0o600); err != nil {
					t.Fatal(err)
				}
				for _, w := range []struct {
					name string
					mode WriteMode
				}{{"new", CreateOnly}, {"old", Replace}} {
					if err := WriteFile(root, w.name, []byte("secret"), 0o640, w.mode); err != nil {
						t.Fatal(err)
					}
					var st syscall.Stat_t
					if err := syscall.Stat(dir+"/"+w.name, &st); err != nil {
						t.Fatal(err)
					}
					if int(st.Gid) != os.Getegid() || st.Mode&0o7777 != 0o640 {
						t.Errorf("WriteFile(%s, mode %d) in a setgid directory of group %d: gid %d, mode %o; want gid %d, mode 640",
							w.name, w.mode, nobody, st.Gid, st.Mode&0o7777, os.Getegid())
					}
				}
			})
		}
	}
}

// TestWriteFilePath: the path is split at its last slash, the directory
// trusted as given (a link to it followed), the file itself never
// reached through a link, and every error names the caller's path.
func TestWriteFilePath(t *testing.T) {
	dir := t.TempDir()
	for _, e := range []struct{ name, target string }{{"dirlink", "sub"}, {"sub/link", "../victim"}} {
		if e.name == "sub/link" {
			if err := os.Mkdir(dir+"/sub", 0o755); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.Symlink(e.target, dir+"/"+e.name); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(dir+"/victim", []byte("victim"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	for _, tc := range []struct {
		path  string
		mode  WriteMode
		err   error // nil: written
		where string
	}{
		{path: "plain", mode: CreateOnly, where: "plain"},
		{path: dir + "/sub/abs", mode: CreateOnly, where: "sub/abs"},
		{path: "dirlink/new", mode: CreateOnly, where: "sub/new"},
		{path: "plain", mode: CreateOnly, err: fs.ErrExist},
		{path: "plain", mode: Replace, where: "plain"},
		{path: "sub/link", mode: Replace, err: confine.ErrSymlink},
		{path: "dirlink/link", mode: CreateOnly, err: confine.ErrSymlink},
		{path: "sub/", mode: Replace, err: syscall.EISDIR},
		{path: "sub/..", mode: Replace, err: syscall.EISDIR},
		{path: "missing/x", mode: CreateOnly, err: fs.ErrNotExist},
		{path: "", mode: CreateOnly, err: resolve.ErrInvalid},
	} {
		err := WriteFilePath(tc.path, []byte("secret"), 0o600, tc.mode)
		if tc.err != nil {
			var pe *fs.PathError
			if !errors.Is(err, tc.err) || !errors.As(err, &pe) || pe.Path != tc.path {
				t.Errorf("WriteFilePath(%q, %d) = %v; want a *fs.PathError on %q matching %v", tc.path, tc.mode, err, tc.path, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("WriteFilePath(%q, %d) = %v", tc.path, tc.mode, err)
			continue
		}
		if b, err := os.ReadFile(dir + "/" + tc.where); err != nil || string(b) != "secret" {
			t.Errorf("WriteFilePath(%q): %s holds %q, %v; want the secret", tc.path, tc.where, b, err)
		}
	}
	if b, _ := os.ReadFile(dir + "/victim"); string(b) != "victim" {
		t.Errorf("a link's target now holds %q", b)
	}
}
