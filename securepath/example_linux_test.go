package securepath_test

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"github.com/pathguard/pathguard/confine"
	"github.com/pathguard/pathguard/securepath"
)

func ExampleCheck() {
	dir, err := os.MkdirTemp("", "example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)

	rep, err := securepath.Check(dir, nil)
	if err != nil {
		panic(err)
	}
	fmt.Println("private directory secure:", rep.Err() == nil)

	// Anyone may now plant or replace entries in it.
	if err := os.Chmod(dir, 0o757); err != nil {
		panic(err)
	}
	rep, err = securepath.Check(dir, nil)
	if err != nil {
		panic(err)
	}
	fmt.Println("after chmod o+w insecure:", errors.Is(rep.Err(), securepath.ErrInsecure))
	last := rep.Entries[len(rep.Entries)-1]
	fmt.Println(last.Verdict, last.Reason)
	// Output:
	// private directory secure: true
	// after chmod o+w insecure: true
	// insecure writable by others
}

func ExampleWriteFile() {
	dir, err := os.MkdirTemp("", "example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	root, err := securepath.OpenDir(dir, nil)
	if err != nil {
		panic(err)
	}
	defer root.Close()

	err = securepath.WriteFile(root, "token", []byte("s3cret"), 0o600, securepath.CreateOnly)
	fmt.Println("create:", err)
	fi, _ := os.Stat(filepath.Join(dir, "token"))
	fmt.Println("mode:", fi.Mode())

	err = securepath.WriteFile(root, "token", []byte("again"), 0o600, securepath.CreateOnly)
	fmt.Println("create again, exists:", errors.Is(err, fs.ErrExist))

	// A link planted at the name is refused, never written through.
	os.Symlink("/etc/shadow", filepath.Join(dir, "planted"))
	err = securepath.WriteFile(root, "planted", []byte("s3cret"), 0o600, securepath.Replace)
	fmt.Println("planted link refused:", errors.Is(err, confine.ErrSymlink))
	// Output:
	// create: <nil>
	// mode: -rw-------
	// create again, exists: true
	// planted link refused: true
}

func ExampleWriteFilePath() {
	dir, err := os.MkdirTemp("", "example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	out := filepath.Join(dir, "credentials.json") // from --output-file

	err = securepath.WriteFilePath(out, []byte(`{"token":"s3cret"}`), 0o600, securepath.CreateOnly)
	fmt.Println("written:", err)
	err = securepath.WriteFilePath(out, []byte(`{"token":"new"}`), 0o600, securepath.Replace)
	fmt.Println("replaced:", err)

	// A trailing slash names a directory, never the file "credentials.json".
	err = securepath.WriteFilePath(out+"/", []byte("x"), 0o600, securepath.Replace)
	fmt.Println("trailing slash, EISDIR:", errors.Is(err, syscall.EISDIR))
	// Output:
	// written: <nil>
	// replaced: <nil>
	// trailing slash, EISDIR: true
}
