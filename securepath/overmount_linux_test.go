package securepath

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/pathguard/pathguard/confine"
	"github.com/pathguard/pathguard/internal/testfs"
)

// TestWriteFileLinkOvermount: WriteFile's linkat fallback (the temporary
// file linked by its /proc/self/fd entry) is not misled by a tmpfs
// mounted over /proc/self/fd (or over /proc/self) whose entries are links
// to a victim outside the root: the secret is written in the root and
// the victim gains no name there. It runs in a child of the test binary
// with a private mount namespace.
func TestWriteFileLinkOvermount(t *testing.T) {
	if testfs.InMountNamespace(t) {
		linkOvermountChild(t)
	}
}

func linkOvermountChild(t *testing.T) {
	setFallback(t, false, true)
	base := testfs.New(t, "victim=VICTIM", "root/")
	victim := filepath.Join(base, "victim")
	self := "/proc/" + strconv.Itoa(os.Getpid())
	for i, target := range []string{self + "/fd", self} {
		if err := unix.Mount("tmpfs", target, "tmpfs", 0, "size=1m"); err != nil {
			t.Fatalf("mount over %s: %v", target, err)
		}
		fake := target
		if target == self {
			fake = filepath.Join(target, "fd")
			if err := os.Mkdir(fake, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		for n := range 256 {
			if err := os.Symlink(victim, filepath.Join(fake, strconv.Itoa(n))); err != nil {
				t.Fatal(err)
			}
		}
		for _, b := range []confine.Resolver{confine.ResolverOpenat2, confine.ResolverWalk} {
			r, err := confine.OpenRoot(filepath.Join(base, "root"), confine.WithResolver(b))
			if err != nil {
				t.Fatal(err)
			}
			name := "secret" + strconv.Itoa(i) + b.String()
			if err := WriteFile(r, name, []byte("SECRET"), 0o600, CreateOnly); err != nil {
				t.Errorf("over %s, %v: WriteFile = %v", target, b, err)
			}
			r.Close()
			if got, err := os.ReadFile(filepath.Join(base, "root", name)); err != nil || string(got) != "SECRET" {
				t.Errorf("over %s, %v: the secret reads %q, %v", target, b, got, err)
			}
			var st unix.Stat_t
			if err := unix.Stat(victim, &st); err != nil || st.Nlink != 1 {
				t.Errorf("over %s, %v: the victim outside the root has %d links, %v: the link was misled by the overmount", target, b, st.Nlink, err)
			}
		}
		if err := unix.Unmount(target, unix.MNT_DETACH); err != nil {
			t.Fatal(err)
		}
	}
}

// TestCheckACLOvermount: Check reads a directory's ACLs through its
// /proc/self/fd entry (fgetxattr refuses O_PATH fds); with a tmpfs over
// /proc/self/fd whose entries all lead to a directory without ACLs, the
// directory's own default ACL is still seen. It runs in a child of
// the test binary with a private mount namespace.
func TestCheckACLOvermount(t *testing.T) {
	if testfs.InMountNamespace(t) {
		aclOvermountChild(t)
	}
}

func aclOvermountChild(t *testing.T) {
	base := openTempDir(t)
	mkdir(t, base+"/plain", 0o755, -1, -1)
	mkdir(t, base+"/acl", 0o755, -1, -1)
	setACL(t, base+"/acl", "system.posix_acl_default", 65534)
	fdDir := "/proc/" + strconv.Itoa(os.Getpid()) + "/fd"
	if err := unix.Mount("tmpfs", fdDir, "tmpfs", 0, "size=1m"); err != nil {
		t.Fatalf("mount over %s: %v", fdDir, err)
	}
	defer unix.Unmount(fdDir, unix.MNT_DETACH)
	for n := range 256 {
		if err := os.Symlink(base+"/plain", filepath.Join(fdDir, strconv.Itoa(n))); err != nil {
			t.Fatal(err)
		}
	}
	rep, err := Check(base+"/acl", nil)
	if err != nil {
		t.Fatalf("Check = %v", err)
	}
	if last := rep.Entries[len(rep.Entries)-1]; !last.DefaultACL {
		t.Errorf("Check(acl): no default ACL seen: it was read through the overmount, not the directory's own\n%v", rep)
	}
}
