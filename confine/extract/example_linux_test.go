//go:build !pathguard_osroot

package extract_test

import (
	"archive/tar"
	"bytes"
	"errors"
	"fmt"
	"os"

	"github.com/pathguard/pathguard/confine"
	"github.com/pathguard/pathguard/confine/extract"
)

func ExampleTar() {
	// An archive with a Zip Slip entry after a good one.
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, name := range []string{"docs/readme.txt", "../../etc/cron.d/evil"} {
		tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: 2})
		tw.Write([]byte("hi"))
	}
	tw.Close()

	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	root, err := confine.OpenRoot(dir)
	if err != nil {
		panic(err)
	}
	defer root.Close()

	rep, err := extract.Tar(root, &buf)
	fmt.Println(errors.Is(err, confine.ErrEscape), err)
	for _, e := range rep.Entries {
		fmt.Println(e.Action, e.Name, e.Size)
	}
	// Output:
	// true extract ../../etc/cron.d/evil: path escapes from the root
	// written docs/readme.txt 2
	// refused ../../etc/cron.d/evil 0
}
