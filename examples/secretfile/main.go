// Command secretfile writes a credential, read from standard input, to
// the file named by --output-file, the way a tool that saves a token or a
// password should: with securepath.WriteFilePath.
//
// Usage:
//
//	secretfile --output-file PATH [--force] < credential
//
// The file gets mode 0600 (whatever the umask) and the caller's own
// group, and appears complete or not at all. A symlink at PATH is
// refused, never written through: on a shared directory such as /tmp,
// another user who plants a link there (the credential-file bug) gets
// nothing. --force replaces an existing regular file atomically; without
// it an existing file is left alone.
//
// Every failure is explained in words and exits 1; a usage error exits 2.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/pathguard/pathguard/confine"
	"github.com/pathguard/pathguard/securepath"
)

// maxSecret bounds what is read from standard input: a credential, not a
// disk image.
const maxSecret = 1 << 20

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stderr))
}

func run(args []string, stdin io.Reader, stderr io.Writer) int {
	flags := flag.NewFlagSet("secretfile", flag.ContinueOnError)
	flags.SetOutput(stderr)
	out := flags.String("output-file", "", "where to write the credential (required)")
	force := flags.Bool("force", false, "replace an existing file")
	if err := flags.Parse(args); err != nil {
		return 2
	}
	if *out == "" || flags.NArg() != 0 {
		fmt.Fprintln(stderr, "usage: secretfile --output-file PATH [--force] < credential")
		return 2
	}
	data, err := io.ReadAll(io.LimitReader(stdin, maxSecret+1))
	if err != nil {
		fmt.Fprintf(stderr, "secretfile: reading the credential: %v\n", err)
		return 1
	}
	if len(data) > maxSecret {
		fmt.Fprintf(stderr, "secretfile: the credential is larger than %d bytes\n", maxSecret)
		return 1
	}
	mode := securepath.CreateOnly
	if *force {
		mode = securepath.Replace
	}
	if err := securepath.WriteFilePath(*out, data, 0o600, mode); err != nil {
		fmt.Fprintf(stderr, "secretfile: %s\n", explain(*out, err))
		return 1
	}
	return 0
}

// explain says why writing path failed, in terms of what the user can do.
func explain(path string, err error) string {
	switch {
	case errors.Is(err, confine.ErrSymlink):
		return fmt.Sprintf("refused: %s is a symbolic link; a secret is never written through one (someone may be trying to redirect it). Remove the link and try again.", path)
	case errors.Is(err, securepath.ErrInsecure):
		return fmt.Sprintf("refused: another user holds or changed %s in a directory they can write: %v. Choose a directory only you can write.", path, err)
	case errors.Is(err, securepath.ErrNotRegular):
		return fmt.Sprintf("refused: %s exists and is not a regular file.", path)
	case errors.Is(err, fs.ErrExist):
		return fmt.Sprintf("refused: %s exists; use --force to replace it.", path)
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Sprintf("cannot write %s: its directory does not exist.", path)
	case errors.Is(err, fs.ErrPermission):
		return fmt.Sprintf("cannot write %s: permission denied.", path)
	}
	return fmt.Sprintf("cannot write %s: %v", path, err)
}
