package securepath

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/pathguard/pathguard/confine"
)

// nobody is the unprivileged uid and gid the tests give away files to.
const nobody = 65534

// backends are the two resolvers every Root-based test runs under.
var backends = []struct {
	name string
	opt  confine.Option
}{
	{"openat2", confine.WithResolver(confine.ResolverOpenat2)},
	{"walk", confine.WithResolver(confine.ResolverWalk)},
}

const (
	helperEnv = "SECUREPATH_TEST_HELPER"
	argEnv    = "SECUREPATH_TEST_ARG"
)

// TestMain runs a helper instead of the tests when the binary was
// re-executed as another user by runAs.
func TestMain(m *testing.M) {
	if h := os.Getenv(helperEnv); h != "" {
		os.Exit(runHelper(h, os.Getenv(argEnv)))
	}
	os.Exit(m.Run())
}

// runHelper prints one classification word for the parent to compare, so
// the parent never matches error text.
func runHelper(name, arg string) int {
	switch name {
	case "check":
		rep, err := Check(arg, nil)
		switch {
		case errors.Is(err, fs.ErrPermission):
			fmt.Println("EACCES")
		case err != nil:
			fmt.Println("ERROR", err)
		case errors.Is(rep.Err(), ErrInsecure):
			fmt.Println("INSECURE")
		case rep.Err() == nil:
			fmt.Println("SECURE")
		}
	case "write":
		root, err := confine.OpenRoot(arg)
		if err != nil {
			fmt.Println("ERROR", err)
			return 0
		}
		defer root.Close()
		if err := WriteFile(root, "new", []byte("created"), 0o640, CreateOnly); err != nil {
			fmt.Println("ERROR create", err)
			return 0
		}
		if err := WriteFile(root, "old", []byte("replaced"), 0o604, Replace); err != nil {
			fmt.Println("ERROR replace", err)
			return 0
		}
		fmt.Println("OK")
	case "replace-raced":
		replaceRaced(arg)
	default:
		fmt.Println("ERROR unknown helper", name)
	}
	return 0
}

// runAs re-executes the test binary as uid/gid nobody running helper name
// on arg and returns its first output word(s). It needs root.
func runAs(t *testing.T, name, arg string) string {
	t.Helper()
	out, err := helperCmd(t, name, arg).CombinedOutput()
	if err != nil {
		t.Fatalf("helper %s %s: %v\n%s", name, arg, err, out)
	}
	return strings.TrimSpace(string(out))
}

// helperCmd is the command that re-executes the test binary as uid/gid
// nobody running helper name on arg.
func helperCmd(t *testing.T, name, arg string) *exec.Cmd {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	// The go tool keeps the binary in a 0700 directory: copy it where
	// nobody can run it.
	dir := openTempDir(t)
	bin := filepath.Join(dir, "helper.test")
	src, err := os.ReadFile(exe)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, src, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"="+name, argEnv+"="+arg)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nobody, Gid: nobody}}
	return cmd
}

func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to give files to other users")
	}
}

// openTempDir is a t.TempDir that every user can search, its parent too.
func openTempDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, d := range []string{filepath.Dir(dir), dir} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// mkdir creates dir with exactly mode (no umask) and, when uid >= 0, the
// given owner.
func mkdir(t *testing.T, dir string, mode fs.FileMode, uid, gid int) {
	t.Helper()
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	chmod(t, dir, mode)
	if uid >= 0 {
		if err := os.Lchown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
	}
}

// chmod sets mode bits including sticky (os.Chmod maps fs.ModeSticky).
func chmod(t *testing.T, p string, mode fs.FileMode) {
	t.Helper()
	if err := os.Chmod(p, mode); err != nil {
		t.Fatal(err)
	}
}

// aclBlob builds a system.posix_acl_access value (the kernel's
// posix_acl_xattr format, version 2) that gives uid write access.
func aclBlob(uid uint32) []byte {
	const (
		userObj  = 0x01
		user     = 0x02
		groupObj = 0x04
		mask     = 0x10
		other    = 0x20
		undef    = 0xffffffff
	)
	var b bytes.Buffer
	w := func(v any) { _ = binary.Write(&b, binary.LittleEndian, v) }
	w(uint32(2))
	for _, e := range []struct {
		tag, perm uint16
		id        uint32
	}{
		{userObj, 7, undef}, {user, 7, uid}, {groupObj, 5, undef}, {mask, 7, undef}, {other, 5, undef},
	} {
		w(e.tag)
		w(e.perm)
		w(e.id)
	}
	return b.Bytes()
}

// setACL puts an ACL granting uid write on dir, or skips where the file
// system has no ACLs.
func setACL(t *testing.T, dir, attr string, uid uint32) {
	t.Helper()
	err := unix.Setxattr(dir, attr, aclBlob(uid), 0)
	if errors.Is(err, unix.EOPNOTSUPP) {
		t.Skip("no POSIX ACLs on this file system")
	}
	if err != nil {
		t.Fatalf("setxattr %s %s: %v", dir, attr, err)
	}
}

// readAll reads f from its current offset.
func readAll(t *testing.T, f *os.File) string {
	t.Helper()
	b, err := io.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
