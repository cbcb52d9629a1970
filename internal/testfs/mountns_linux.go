package testfs

import (
	"os"
	"os/exec"
	"regexp"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// mountNSEnv names, in the environment of a child test binary, the test
// that InMountNamespace runs there.
const mountNSEnv = "PATHGUARD_MOUNTNS_TEST"

// InMountNamespace reports whether the calling test runs in a child of the
// test binary that has a mount namespace of its own, where it may mount
// over anything without touching the machine. Called in the test itself,
// it starts that child (skipping the test when not root), logs its output,
// fails the test if the child failed, and returns false; in the child it
// returns true, and the caller goes on with the mounts. In the child "/"
// is first made private (MS_REC|MS_PRIVATE), so that no mount made there
// propagates back to the parent namespace; where that fails the test is
// skipped.
func InMountNamespace(t *testing.T) bool {
	t.Helper()
	if os.Getenv(mountNSEnv) == t.Name() {
		if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
			t.Skipf("cannot make / private: %v", err)
		}
		return true
	}
	if os.Geteuid() != 0 {
		t.Skip("mounting needs root")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^"+regexp.QuoteMeta(t.Name())+"$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), mountNSEnv+"="+t.Name())
	cmd.SysProcAttr = &syscall.SysProcAttr{Unshareflags: syscall.CLONE_NEWNS}
	out, err := cmd.CombinedOutput()
	t.Logf("child:\n%s", out)
	if err != nil {
		t.Fatalf("child: %v", err)
	}
	return false
}
