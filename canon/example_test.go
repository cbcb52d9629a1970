package canon_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/pathguard/pathguard/canon"
)

func ExampleClean() {
	for _, p := range []string{"/srv/www/./a//b/", "a/../../b", "/../etc/passwd", "photo.png\x00.txt"} {
		c, err := canon.Clean(p)
		if errors.Is(err, canon.ErrInvalid) {
			fmt.Printf("%q: invalid\n", p)
			continue
		}
		fmt.Printf("%q: %q\n", p, c)
	}
	// Output:
	// "/srv/www/./a//b/": "/srv/www/a/b"
	// "a/../../b": "../b"
	// "/../etc/passwd": "/etc/passwd"
	// "photo.png\x00.txt": invalid
}

func ExampleIsLocal() {
	for _, p := range []string{"a/b", "a/../b", "a/../../b", "/etc/passwd", "", "a\x00"} {
		fmt.Printf("%q: %v\n", p, canon.IsLocal(p))
	}
	// Output:
	// "a/b": true
	// "a/../b": true
	// "a/../../b": false
	// "/etc/passwd": false
	// "": false
	// "a\x00": false
}

func ExampleWithin() {
	for _, p := range []string{"/srv/www/index.html", "/srv/www", "/srv/www2/secret", "/srv/www/../x", "srv/www/x"} {
		fmt.Printf("%s: %v\n", p, canon.Within("/srv/www", p))
	}
	// Output:
	// /srv/www/index.html: true
	// /srv/www: true
	// /srv/www2/secret: false
	// /srv/www/../x: false
	// srv/www/x: false
}

func ExampleSplit() {
	fmt.Printf("%q\n", canon.Split("/a//b/"))
	fmt.Printf("%q\n", canon.Split("./a/../b"))
	fmt.Printf("%q\n", canon.Split("/"))
	// Output:
	// ["a" "b"]
	// ["a" ".." "b"]
	// []
}

func ExampleJoin() {
	root, err := os.MkdirTemp("", "canon-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(root)
	// An attacker with write access inside root plants a link to the
	// host's /etc.
	if err := os.Symlink("/etc", filepath.Join(root, "link")); err != nil {
		panic(err)
	}
	for _, p := range []string{"../../etc/passwd", "/etc/passwd", "link/passwd", "link/../../x"} {
		j, err := canon.Join(root, p)
		if err != nil {
			panic(err)
		}
		rel, _ := filepath.Rel(root, j)
		fmt.Printf("%s -> <root>/%s\n", p, filepath.ToSlash(rel))
	}
	// Output:
	// ../../etc/passwd -> <root>/etc/passwd
	// /etc/passwd -> <root>/etc/passwd
	// link/passwd -> <root>/etc/passwd
	// link/../../x -> <root>/x
}
