package main

import (
	"fmt"
	"io"
	"path/filepath"
)

var scanFlags = flagSet{
	bools:  []string{"json", "no-xdev"},
	values: []string{"trust-uid", "trust-gid"},
}

const scanHelp = `usage: pathaudit scan ROOT [flags]

scan walks the whole tree under the directory ROOT on held descriptors,
never following a symlink, and lists what an auditor must see, one
finding a line: KIND PATH: DETAIL, PATH relative to ROOT ("." is ROOT).

  escape      a symlink that leads out of ROOT (an absolute target is one)
  dangling    a symlink that leads nowhere (missing target, loop, ENOTDIR)
  magic-link  a procfs link that jumps where the kernel says, not its text
  writable    a directory or file that a user or group not trusted can
              change (securepath's rules: owner, group, others, ACL)
  setid       a setuid or setgid file
  hardlink    a regular file with more than one hard link
  mount       a mount point inside ROOT (bind mounts included)

What could not be read is listed as "error PATH: ...". Exit status 0 when
nothing was found, 1 when something was, 2 on a usage error or when ROOT,
or anything in it, could not be read (the findings are still listed).

flags:
  --no-xdev          list mount points but do not descend into them
  --trust-uid N      trust user N too (repeat, or N,M,...)
  --trust-gid N      trust group N: its members may write (repeat, or N,M,...)
  --json             print one JSON object instead of text
  -h, --help         print this help

Root and the effective uid are always trusted. A progress line is shown
on standard error when it is a terminal (never with --json).
`

// Kinds of finding.
const (
	kindEscape    = "escape"
	kindDangling  = "dangling"
	kindMagicLink = "magic-link"
	kindWritable  = "writable"
	kindSetid     = "setid"
	kindHardlink  = "hardlink"
	kindMount     = "mount"
)

// scanReport is what scan found, printed as text or, with --json, as one
// JSON object.
type scanReport struct {
	Root        string        `json:"root"` // ROOT, made absolute
	NoXDev      bool          `json:"no_xdev"`
	TrustedUIDs []int         `json:"trusted_uids"`
	TrustedGIDs []int         `json:"trusted_gids"`
	Scanned     int           `json:"scanned"` // entries examined, ROOT included
	Clean       bool          `json:"clean"`   // no finding and no error
	Findings    []scanFinding `json:"findings"`
	Errors      []scanError   `json:"errors"`
	Error       string        `json:"error,omitempty"`      // ROOT itself could not be scanned
	ErrorKind   string        `json:"error_kind,omitempty"` // see errorKind
}

// scanFinding is one thing found. Fields that do not apply to its kind
// are left out.
type scanFinding struct {
	Kind   string `json:"kind"`
	Path   string `json:"path"`             // relative to ROOT, slash-separated
	Detail string `json:"detail"`           // why, in words
	Target string `json:"target,omitempty"` // a link's text
	Mode   string `json:"mode"`             // as fs.FileMode prints it
	UID    int    `json:"uid"`
	GID    int    `json:"gid"`
	Nlink  uint32 `json:"nlink,omitempty"` // hardlink
}

// scanError is a part of the tree that could not be examined.
type scanError struct {
	Path      string `json:"path"`
	Error     string `json:"error"`
	ErrorKind string `json:"error_kind"`
}

func runScan(args []string, stdout, stderr io.Writer) int {
	p, code := scanFlags.parseCommand("scan", scanHelp, args, 1, "one ROOT", stdout, stderr)
	if p == nil {
		return code
	}
	rep := scanReport{Root: p.args[0], NoXDev: p.bools["no-xdev"], Findings: []scanFinding{}, Errors: []scanError{}}
	var ok bool
	if rep.TrustedUIDs, rep.TrustedGIDs, ok = p.trustIDs("scan", stdout, stderr); !ok {
		return exitUsage
	}
	if abs, err := filepath.Abs(rep.Root); err == nil {
		rep.Root = abs
	}
	var progress io.Writer
	if !p.bools["json"] && isTerminal(stderr) {
		progress = stderr
	}
	scanTree(&rep, progress)
	rep.Clean = rep.Error == "" && len(rep.Findings) == 0 && len(rep.Errors) == 0

	if !emit(p.bools["json"], &rep, stdout, stderr) {
		return exitError
	}
	switch {
	case rep.Error != "" || len(rep.Errors) > 0:
		return exitUsage
	case len(rep.Findings) > 0:
		return exitFail
	}
	return exitOK
}

// writeText prints one line per finding, then one per error, and a
// summary.
func (rep *scanReport) writeText(w io.Writer) {
	if rep.Error != "" {
		fmt.Fprintf(w, "error      %s: %s\n", show(rep.Root), show(rep.Error))
		return
	}
	for _, f := range rep.Findings {
		fmt.Fprintf(w, "%-10s %s: %s\n", f.Kind, show(f.Path), show(f.Detail))
	}
	for _, e := range rep.Errors {
		fmt.Fprintf(w, "%-10s %s: %s\n", "error", show(e.Path), show(e.Error))
	}
	fmt.Fprintf(w, "scanned %d entries under %s: %d findings, %d errors\n", rep.Scanned, show(rep.Root), len(rep.Findings), len(rep.Errors))
}
