// Command pathaudit shows an auditor what pathguard makes of a path.
//
// Usage:
//
//	pathaudit resolve ROOT PATH [--in-root] [--json] [--no-symlinks] [--no-xdev] [--resolver auto|openat2|walk] [--trace]
//	pathaudit check PATH [--json] [--trust-uid N]... [--trust-gid N]...
//	pathaudit scan ROOT [--json] [--no-xdev] [--trust-uid N]... [--trust-gid N]...
//
// resolve opens ROOT as a confine.Root with the options given and prints
// where PATH really leads inside it, every symlink followed: the path
// relative to ROOT (confine.Root.Resolve) and ROOT joined with it. When
// the tail of PATH does not exist yet, it resolves what exists and
// reports the rest. If PATH escapes, it names the link (and its text) or
// the ".." that led out; --trace lists every step of the walk.
//
// check judges the directory PATH and every directory above it with
// securepath.Check (CERT FIO15-C): can anyone but root, the effective uid
// and the users and groups given with --trust-uid and --trust-gid rename,
// replace or plant entries on the way? It prints one line per directory
// and the verdict, with the reason for each. The verdict is advisory: the
// tree may change after it.
//
// scan walks the tree under ROOT on held descriptors, never following a
// link, and lists links that lead out or nowhere, magic links, entries
// that untrusted users can change, setuid and setgid files, files with
// more than one hard link and mount points. docs/cli.md has the details
// and the JSON schemas.
//
// Flags may come before or after the arguments; "--" ends the flags.
// With --json, one JSON object is printed on standard output, whatever
// the outcome.
//
// Exit status: 0 inside, secure or clean; 1 escape or other refusal,
// insecure, or findings; 2 on a usage error or an I/O error that leaves
// no verdict (ROOT or PATH cannot be opened or walked).
//
// Outside Linux, confine delegates to os.Root, which cannot say where a
// link leads, and securepath is not implemented: both subcommands report
// errors.ErrUnsupported there.
package main

import (
	"fmt"
	"io"
	"os"
	"strings"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// Exit statuses.
const (
	exitOK    = 0 // resolved inside the root; secure; nothing found
	exitFail  = 1 // an escape or a refusal; insecure; findings
	exitUsage = 2 // bad command line
	exitError = 2 // ROOT or PATH could not be read: no verdict
)

// command is one subcommand: its name, its arguments and one line on
// what it does for the usage, and the function that runs it.
type command struct {
	name, args, summary string
	run                 func(args []string, stdout, stderr io.Writer) int
}

// commands is the dispatch table, in the order the usage lists them. A
// subcommand kept in a file of its own adds itself from an init function
// (commands = append(commands, command{...})): run and the usage need no
// other change.
var commands = []command{
	{"resolve", "ROOT PATH", "where PATH really leads inside the directory ROOT", runResolve},
	{"check", "PATH", "whether anyone untrusted can change the directory PATH or one above it", runCheck},
	{"scan", "ROOT", "everything in the tree under ROOT that an auditor must see", runScan},
}

// usage is the top-level help, built from commands.
func usage() string {
	var b strings.Builder
	for i, c := range commands {
		lead := "       "
		if i == 0 {
			lead = "usage: "
		}
		fmt.Fprintf(&b, "%spathaudit %s %s [flags]\n", lead, c.name, c.args)
	}
	b.WriteString("\n")
	for _, c := range commands {
		fmt.Fprintf(&b, "%-8s %s\n", c.name, c.summary)
	}
	b.WriteString(`
Exit status: 0 inside, secure or clean; 1 escape, insecure or findings;
2 usage error, or ROOT or PATH could not be read. 'pathaudit COMMAND -h'
lists the flags of COMMAND; --json prints one JSON object on standard
output, whatever happens.
`)
	return b.String()
}

const resolveHelp = `usage: pathaudit resolve ROOT PATH [flags]

resolve prints where PATH really leads inside the directory ROOT, every
symlink followed. When the last components of PATH do not exist yet (a
file about to be created), it resolves what exists and lists the rest.
When PATH escapes, it names the link that led out and its text, or the
".." that did. --trace lists every step of the walk: each component
entered, each link read and its text, each ".." popped, each mount
crossed (the steps come from the walk backend, which takes them one by
one; the answer comes from the backend in use).

Exit status 0 when PATH stays inside ROOT (its missing tail, if any,
holding no ".."), 1 on an escape or any other refusal, 2 on a usage error
or when ROOT cannot be opened. Flags may come before or after the
arguments; "--" ends them.

flags:
  --in-root          read PATH as if ROOT were "/" (RESOLVE_IN_ROOT): ".."
                     stops at ROOT, absolute names and links start there
  --no-symlinks      refuse any symlink on the way
  --no-xdev          refuse to cross a mount point (bind mounts included)
  --resolver NAME    auto (default), openat2 or walk
  --trace            list every step of the walk
  --json             print one JSON object instead of text
  -h, --help         print this help
`

const checkHelp = `usage: pathaudit check PATH [flags]

check judges the directory PATH and each directory above it (CERT
FIO15-C): may anyone untrusted rename, replace or plant entries there?
Root and the effective uid are trusted, plus the ids given. Every
directory gets a verdict and the reason for it.

Exit status 0 when every directory is secure, 1 when one is not, 2 on a
usage error or when PATH cannot be walked. Flags may come before or after
the arguments; "--" ends them.

flags:
  --trust-uid N      trust user N too (repeat, or N,M,...)
  --trust-gid N      trust group N: its members may write (repeat, or N,M,...)
  --json             print one JSON object instead of text
  -h, --help         print this help
`

// run is the whole command, minus the process: it reads args (without
// the program name), writes to stdout and stderr, and returns the exit
// status.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		io.WriteString(stderr, usage())
		return exitUsage
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		return writeHelp("", usage(), args, stdout)
	}
	for _, c := range commands {
		if c.name == args[0] {
			return c.run(args[1:], stdout, stderr)
		}
	}
	return usageFail("", args, stdout, stderr, "unknown command %q", args[0])
}
