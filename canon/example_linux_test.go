package canon_test

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/pathguard/pathguard/canon"
)

func ExampleResolve() {
	root, err := os.MkdirTemp("", "canon-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(root)
	if err := os.MkdirAll(filepath.Join(root, "etc"), 0o755); err != nil {
		panic(err)
	}
	if err := os.WriteFile(filepath.Join(root, "etc", "passwd"), nil, 0o644); err != nil {
		panic(err)
	}
	// Links planted by an attacker: one to the host's /etc, one upward.
	if err := os.Symlink("/etc", filepath.Join(root, "link")); err != nil {
		panic(err)
	}
	if err := os.Symlink("../../..", filepath.Join(root, "up")); err != nil {
		panic(err)
	}
	for _, p := range []string{"link/passwd", "up/etc/passwd", "../../etc/passwd", "link/shadow"} {
		r, err := canon.Resolve(root, p)
		if errors.Is(err, fs.ErrNotExist) {
			fmt.Printf("%s: does not exist\n", p)
			continue
		}
		if err != nil {
			panic(err)
		}
		rel, _ := filepath.Rel(root, r)
		fmt.Printf("%s -> <root>/%s\n", p, rel)
	}
	// Output:
	// link/passwd -> <root>/etc/passwd
	// up/etc/passwd -> <root>/etc/passwd
	// ../../etc/passwd -> <root>/etc/passwd
	// link/shadow: does not exist
}
