package resolve

import (
	"errors"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/pathguard/pathguard/internal/testfs"
)

// TestRetryBound: a kernel that always asks for a retry costs one lookup
// at most maxRetries attempts in all (each one openat2 call; under NoXDev
// the walk, not a second openat2, classifies an EXDEV; the test allows
// two per attempt), never a product of nested bounds; the answer is
// ErrRetry, which matches syscall.EAGAIN.
func TestRetryBound(t *testing.T) {
	dir := testfs.New(t, "d/", "d/f=F")
	for _, tc := range []struct {
		name  string
		mode  Mode
		flags Flags
		errno syscall.Errno
	}{
		{"EAGAIN/Beneath", Beneath, 0, unix.EAGAIN},
		{"EAGAIN/InRoot", InRoot, 0, unix.EAGAIN},
		{"EXDEV/InRoot", InRoot, 0, unix.EXDEV},
		{"EXDEV/InRoot+NoXDev", InRoot, NoXDev, unix.EXDEV},
		{"EAGAIN/Beneath+NoXDev", Beneath, NoXDev, unix.EAGAIN},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEngines(t, dir, tc.flags)[tc.mode.String()+"/openat2"]
			calls := 0
			t.Cleanup(SetOpenat2ForTest(func(int, string, *unix.OpenHow) (int, error) {
				calls++
				return -1, tc.errno
			}))
			for _, op := range []struct {
				name string
				run  func() error
			}{
				{"Open", func() error { _, err := e.Open("d/f", unix.O_RDONLY, 0); return err }},
				{"Open(O_CREAT of d/)", func() error { _, err := e.Open("d/", unix.O_CREAT|unix.O_RDWR, 0o600); return err }},
				{"Parent", func() error { _, _, _, err := e.Parent("d/f"); return err }},
				{"Resolve", func() error { _, err := e.Resolve("d/f"); return err }},
			} {
				calls = 0
				err := op.run()
				if err != ErrRetry || !errors.Is(err, syscall.EAGAIN) {
					t.Errorf("%s = %v, want ErrRetry (matching EAGAIN)", op.name, err)
				}
				if calls < 2 || calls > 2*maxRetries {
					t.Errorf("%s made %d openat2 calls, want 2..%d (retried, within one bound)", op.name, calls, 2*maxRetries)
				}
			}
		})
	}
}
