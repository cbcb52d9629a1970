package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/pathguard/pathguard/confine"
	"github.com/pathguard/pathguard/confine/extract"
)

const archiveHelp = `usage: pathaudit archive FILE [--into DIR] [flags]

Without --into, archive lists every entry of the tar or zip FILE that an
extraction would refuse or skip, and why, writing nothing (what depends
on a destination's contents cannot be known then). With --into, it
extracts FILE into the directory DIR with confine/extract: no entry is
written outside DIR, nothing is written through a symlink, whoever put it
there. A tar may be compressed with gzip or bzip2.

Exit status 0 when no entry was refused or skipped (and, with --into, the
extraction finished), 1 otherwise (a malformed archive included), 2 on a
usage error or when FILE or DIR cannot be opened. Flags may come before
or after the arguments; "--" ends them.

flags:
  --into DIR         extract into DIR (which must exist)
  --links POLICY     symlink entries: within (default: only those that stay
                     inside), deny, or verbatim
  --replace          replace existing files (never directories)
  --skip             with --into, skip refused entries instead of stopping
  --json             print one JSON object instead of text (no progress)
  -h, --help         print this help
`

func init() {
	commands = append(commands, command{"archive", "FILE", "what extracting the tar or zip FILE would refuse; with --into DIR, a safe extraction", runArchive})
}

var archiveFlags = flagSet{
	bools:  []string{"json", "replace", "skip"},
	values: []string{"into", "links"},
}

// archiveEntry is one Report line, for --json.
type archiveEntry struct {
	Name      string `json:"name"`
	Kind      string `json:"kind"`
	Link      string `json:"link,omitempty"`
	Size      int64  `json:"size"`
	Action    string `json:"action"`
	Reason    string `json:"reason,omitempty"`
	ErrorKind string `json:"error_kind,omitempty"`
}

// archiveReport is what archive found, printed as text or as JSON.
type archiveReport struct {
	Archive   string         `json:"archive"`
	Format    string         `json:"format"`         // "tar" or "zip"
	Into      string         `json:"into,omitempty"` // DIR, made absolute; empty for a scan
	Entries   []archiveEntry `json:"entries"`
	Written   int64          `json:"written"` // bytes
	Refused   int            `json:"refused"`
	Skipped   int            `json:"skipped"`
	Error     string         `json:"error,omitempty"`
	ErrorKind string         `json:"error_kind,omitempty"`
}

func runArchive(args []string, stdout, stderr io.Writer) int {
	p, code := archiveFlags.parseCommand("archive", archiveHelp, args, 1, "one FILE", stdout, stderr)
	if p == nil {
		return code
	}
	var opts []extract.Option
	switch l := p.last("links", "within"); l {
	case "within":
	case "deny":
		opts = append(opts, extract.LinkDeny())
	case "verbatim":
		opts = append(opts, extract.LinkVerbatim())
	default:
		return usageFail("archive", args, stdout, stderr, "--links must be within, deny or verbatim, not %q", l)
	}
	if p.bools["replace"] {
		opts = append(opts, extract.Replace())
	}
	into := p.last("into", "")
	if p.bools["skip"] {
		if into == "" {
			return usageFail("archive", args, stdout, stderr, "--skip needs --into")
		}
		opts = append(opts, extract.SkipRefused())
	}
	rep := archiveReport{Archive: p.args[0], Into: into}
	var pb *bar
	if into != "" {
		if abs, err := filepath.Abs(into); err == nil {
			rep.Into = abs
		}
		if pb = progressBar(stderr, p.bools["json"]); pb != nil {
			opts = append(opts, extract.WithProgress(pb.update))
		}
	}

	err := archiveRun(&rep, opts)
	pb.done()
	if err != nil {
		rep.Error = err.Error()
		rep.ErrorKind = archiveErrorKind(err)
	}
	if !emit(p.bools["json"], &rep, stdout, stderr) {
		return exitError
	}
	switch {
	case errors.Is(err, errNoVerdict):
		return exitError
	case err != nil || rep.Refused > 0 || rep.Skipped > 0:
		return exitFail
	}
	return exitOK
}

// errNoVerdict marks the errors that leave no verdict on the archive:
// FILE or DIR could not be opened.
var errNoVerdict = errors.New("no verdict")

type noVerdict struct{ err error }

func (e noVerdict) Error() string   { return e.err.Error() }
func (e noVerdict) Unwrap() []error { return []error{e.err, errNoVerdict} }

// archiveRun scans or extracts rep.Archive and fills rep in.
func archiveRun(rep *archiveReport, opts []extract.Option) error {
	f, err := os.Open(rep.Archive)
	if err != nil {
		return noVerdict{err}
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return noVerdict{err}
	}
	var root *confine.Root
	if rep.Into != "" {
		if root, err = confine.OpenRoot(rep.Into); err != nil {
			return noVerdict{err}
		}
		defer root.Close()
	}
	var magic [4]byte
	n, _ := io.ReadFull(f, magic[:])
	var r *extract.Report
	if bytes.HasPrefix(magic[:n], []byte("PK\x03\x04")) || bytes.HasPrefix(magic[:n], []byte("PK\x05\x06")) {
		rep.Format = "zip"
		if root == nil {
			r, err = extract.ScanZip(f, fi.Size(), opts...)
		} else {
			r, err = extract.Zip(root, f, fi.Size(), opts...)
		}
	} else {
		rep.Format = "tar"
		var in io.Reader
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return err
		}
		if in, err = extract.Decompress(bufio.NewReaderSize(f, 1<<20)); err != nil {
			return fmt.Errorf("reading %s: %w", rep.Archive, err)
		}
		if root == nil {
			r, err = extract.ScanTar(in, opts...)
		} else {
			r, err = extract.Tar(root, in, opts...)
		}
	}
	if r != nil {
		rep.Written = r.Written
		for _, e := range r.Entries {
			ae := archiveEntry{Name: e.Name, Kind: e.Kind.String(), Link: e.Link, Size: e.Size, Action: e.Action.String(), Reason: e.Reason}
			if e.Err != nil {
				ae.ErrorKind = archiveErrorKind(e.Err)
			}
			switch e.Action {
			case extract.Refused:
				rep.Refused++
			case extract.Skipped:
				rep.Skipped++
			}
			rep.Entries = append(rep.Entries, ae)
		}
	}
	return err
}

// archiveErrorKind is errorKind, with the extraction's own sentinels.
func archiveErrorKind(err error) string {
	switch {
	case errors.Is(err, extract.ErrLimit):
		return "limit"
	case errors.Is(err, extract.ErrHardLink):
		return "hard-link"
	case errors.Is(err, os.ErrExist):
		return "exist"
	}
	return errorKind(err)
}

// writeText prints the entries refused or skipped, one a line, and a
// summary.
func (rep *archiveReport) writeText(w io.Writer) {
	for _, e := range rep.Entries {
		if e.Action == extract.Written.String() {
			continue
		}
		fmt.Fprintf(w, "%-8s %-8s %s: %s\n", e.Action, e.Kind, show(e.Name), show(e.Reason))
	}
	verb := "would be written"
	if rep.Into != "" {
		verb = "written into " + show(rep.Into)
	}
	fmt.Fprintf(w, "%s (%s): %d entries, %d refused, %d skipped; %d bytes %s\n",
		show(rep.Archive), rep.Format, len(rep.Entries), rep.Refused, rep.Skipped, rep.Written, verb)
	if rep.Error != "" {
		fmt.Fprintf(w, "error: %s\n", show(rep.Error))
	}
}

// bar is a one-line progress display on a terminal.
type bar struct {
	w     io.Writer
	shown bool
}

// progressBar returns a bar on stderr when it is a terminal and JSON is
// not asked for, nil otherwise.
func progressBar(stderr io.Writer, json bool) *bar {
	if json || !isTerminal(stderr) {
		return nil
	}
	return &bar{w: stderr}
}

func (b *bar) update(p extract.Progress) {
	b.shown = true
	// \r and erase to the end of the line; the name is shown escaped.
	fmt.Fprintf(b.w, "\r\x1b[K%d entries, %d MiB: %.60s", p.Entries, p.Written>>20, show(p.Name))
}

func (b *bar) done() {
	if b != nil && b.shown {
		io.WriteString(b.w, "\r\x1b[K")
	}
}
