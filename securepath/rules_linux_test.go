package securepath

import (
	"errors"
	"io"
	"path/filepath"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/pathguard/pathguard/confine"
	"github.com/pathguard/pathguard/internal/testfs"
)

// TestEngineRules: Check and Open walk with the engine, so its rules
// apply to them: a symlink on a nosymfollow mount is ELOOP (Check judged
// through it before), and Open with NoXDev refuses to cross a mount
// below dir, under both backends and both modes. It runs in a child of
// the test binary with a private mount namespace.
func TestEngineRules(t *testing.T) {
	if testfs.InMountNamespace(t) {
		engineRulesChild(t)
	}
}

func engineRulesChild(t *testing.T) {
	base := testfs.New(t, "nsf/", "d/mnt/")
	nsf, mnt := filepath.Join(base, "nsf"), filepath.Join(base, "d", "mnt")
	if err := unix.Mount("tmpfs", nsf, "tmpfs", unix.MS_NOSYMFOLLOW, "mode=755,size=1m"); err != nil {
		t.Skipf("mount nosymfollow: %v", err)
	}
	t.Cleanup(func() { unix.Unmount(nsf, unix.MNT_DETACH) })
	testfs.Make(t, nsf, "sub/", "l => sub")
	if rep, err := Check(filepath.Join(nsf, "l"), nil); !errors.Is(err, syscall.ELOOP) {
		t.Errorf("Check(nsf/l) on a nosymfollow mount = %v, %v, want ELOOP", rep, err)
	}
	if _, err := Check(filepath.Join(nsf, "sub"), nil); err != nil {
		t.Errorf("Check(nsf/sub) = %v, want a report", err)
	}

	if err := unix.Mount("tmpfs", mnt, "tmpfs", 0, "mode=755,size=1m"); err != nil {
		t.Fatalf("mount: %v", err)
	}
	t.Cleanup(func() { unix.Unmount(mnt, unix.MNT_DETACH) })
	testfs.Make(t, mnt, "f=data")
	dir := filepath.Join(base, "d")
	for _, b := range backends {
		for _, mode := range []struct {
			name string
			opts []confine.Option
		}{{"beneath", nil}, {"inroot", []confine.Option{confine.InRoot()}}} {
			opts := append([]confine.Option{b.opt}, mode.opts...)
			f, err := Open(dir, "mnt/f", nil, opts...)
			if err != nil {
				t.Fatalf("%s/%s: Open(mnt/f) = %v, want the file", b.name, mode.name, err)
			}
			got, err := io.ReadAll(f)
			f.Close()
			if err != nil || string(got) != "data" {
				t.Errorf("%s/%s: read %q, %v, want %q", b.name, mode.name, got, err, "data")
			}
			f, err = Open(dir, "mnt/f", nil, append(opts, confine.NoXDev())...)
			if !errors.Is(err, confine.ErrCrossDevice) {
				if f != nil {
					f.Close()
				}
				t.Errorf("%s/%s: Open(mnt/f, NoXDev) = %v, want ErrCrossDevice", b.name, mode.name, err)
			}
		}
	}
}
