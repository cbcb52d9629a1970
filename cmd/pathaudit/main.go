// Command pathaudit shows an auditor what pathguard makes of a path.
//
// Usage:
//
//	pathaudit resolve ROOT PATH [--in-root] [--json] [--no-symlinks] [--no-xdev] [--resolver auto|openat2|walk]
//	pathaudit check PATH [--json] [--trust-uid N]... [--trust-gid N]...
//
// resolve opens ROOT as a confine.Root with the options given and prints
// where PATH really leads inside it, every symlink followed: the path
// relative to ROOT (confine.Root.Resolve) and ROOT joined with it. If PATH
// escapes, or cannot be resolved for any other reason, it prints the
// error instead.
//
// check judges the directory PATH and every directory above it with
// securepath.Check (CERT FIO15-C): can anyone but root, the effective uid
// and the users and groups given with --trust-uid and --trust-gid rename,
// replace or plant entries on the way? It prints one line per directory
// and the verdict. The verdict is advisory: the tree may change after it.
//
// Flags may come before or after the arguments; "--" ends the flags.
// With --json, one JSON object is printed on standard output, whatever
// the outcome.
//
// Exit status: for resolve, 0 when PATH resolves and stays inside ROOT, 1
// on an escape or any other error of resolution (a missing ROOT included);
// for check, 0 when every directory is secure, 1 when one is not or the
// walk fails; 2 on a usage error.
//
// Outside Linux, confine delegates to os.Root, which cannot say where a
// link leads, and securepath is not implemented: both subcommands report
// errors.ErrUnsupported there.
package main

import (
	"io"
	"os"
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

const usage = `usage: pathaudit resolve ROOT PATH [flags]
       pathaudit check PATH [flags]
       pathaudit scan ROOT [flags]

resolve  where PATH really leads inside the directory ROOT
check    whether anyone untrusted can change the directory PATH or one above it
scan     everything in the tree under ROOT that an auditor must see

Exit status: 0 inside, secure or clean; 1 escape, insecure or findings;
2 usage error, or ROOT or PATH could not be read. 'pathaudit COMMAND -h'
lists the flags of COMMAND; --json prints one JSON object on standard
output, whatever happens.
`

const resolveHelp = `usage: pathaudit resolve ROOT PATH [flags]

resolve prints where PATH really leads inside the directory ROOT, every
symlink followed. When the last components of PATH do not exist yet (a
file about to be created), it resolves what exists and lists the rest.
When PATH escapes, it names the link that led out and its text, or the
".." that did.

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
		io.WriteString(stderr, usage)
		return exitUsage
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		io.WriteString(stdout, usage)
		return exitOK
	case "resolve":
		return runResolve(args[1:], stdout, stderr)
	case "check":
		return runCheck(args[1:], stdout, stderr)
	case "scan":
		return runScan(args[1:], stdout, stderr)
	}
	return usageFail("", args, stdout, stderr, "unknown command %q", args[0])
}
