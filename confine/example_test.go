//go:build linux && !pathguard_osroot

package confine_test

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log"
	"os"
	"path/filepath"

	"github.com/pathguard/pathguard/confine"
)

// exampleTree makes a directory holding public/hello.txt, a link out of
// public, and a secret next to public; it returns the directory.
func exampleTree() string {
	dir, err := os.MkdirTemp("", "confine-example")
	if err != nil {
		log.Fatal(err)
	}
	must := func(err error) {
		if err != nil {
			log.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(dir, "public", "docs"), 0o755))
	must(os.WriteFile(filepath.Join(dir, "public", "docs", "hello.txt"), []byte("hello, world\n"), 0o644))
	must(os.WriteFile(filepath.Join(dir, "secret"), []byte("s3cr3t\n"), 0o600))
	must(os.Symlink("../secret", filepath.Join(dir, "public", "leak")))
	return dir
}

func ExampleOpenRoot() {
	dir := exampleTree()
	defer os.RemoveAll(dir)

	root, err := confine.OpenRoot(filepath.Join(dir, "public"))
	if err != nil {
		log.Fatal(err)
	}
	defer root.Close()

	// A name from an untrusted request.
	f, err := root.Open("docs/../docs/hello.txt")
	if err != nil {
		log.Fatal(err)
	}
	b, _ := io.ReadAll(f)
	f.Close()
	fmt.Print(string(b))

	// Neither ".." nor a symlink can lead out of the root.
	for _, name := range []string{"../secret", "leak", "/etc/passwd"} {
		_, err := root.Open(name)
		fmt.Println(name, errors.Is(err, confine.ErrEscape))
	}
	// Output:
	// hello, world
	// ../secret true
	// leak true
	// /etc/passwd true
}

func ExampleInRoot() {
	dir := exampleTree()
	defer os.RemoveAll(dir)

	// InRoot treats the root like "/": ".." stops there and absolute
	// names start there.
	root, err := confine.OpenRoot(filepath.Join(dir, "public"), confine.InRoot())
	if err != nil {
		log.Fatal(err)
	}
	defer root.Close()
	for _, name := range []string{"/docs/hello.txt", "../../docs/hello.txt", "leak"} {
		p, err := root.Resolve(name)
		fmt.Printf("%s -> %q, not found: %v\n", name, p, errors.Is(err, fs.ErrNotExist))
	}
	// Output:
	// /docs/hello.txt -> "docs/hello.txt", not found: false
	// ../../docs/hello.txt -> "docs/hello.txt", not found: false
	// leak -> "", not found: true
}

func ExampleRoot_Resolve() {
	dir := exampleTree()
	defer os.RemoveAll(dir)
	if err := os.Symlink("docs", filepath.Join(dir, "public", "d")); err != nil {
		log.Fatal(err)
	}

	root, err := confine.OpenRoot(filepath.Join(dir, "public"))
	if err != nil {
		log.Fatal(err)
	}
	defer root.Close()
	p, err := root.Resolve("d/./hello.txt")
	fmt.Println(p, err)
	// Output:
	// docs/hello.txt <nil>
}

func ExampleOpenAllowlist() {
	dir := exampleTree()
	defer os.RemoveAll(dir)
	public := filepath.Join(dir, "public")

	a, err := confine.OpenAllowlist([]string{public})
	if err != nil {
		log.Fatal(err)
	}
	defer a.Close()

	// Absolute paths from an untrusted client.
	f, err := a.Open(public + "/docs/hello.txt")
	if err != nil {
		log.Fatal(err)
	}
	b, _ := io.ReadAll(f)
	f.Close()
	fmt.Print(string(b))

	_, err = a.Open(public + "/../secret")
	fmt.Println(errors.Is(err, confine.ErrEscape))
	_, err = a.Open("/etc/passwd")
	fmt.Println(errors.Is(err, confine.ErrEscape))

	// Locate says which Root holds a path, and what it must resolve.
	_, rest, err := a.Locate(public + "//docs/./hello.txt")
	fmt.Println(rest, err)
	// Output:
	// hello, world
	// true
	// true
	// docs/hello.txt <nil>
}
