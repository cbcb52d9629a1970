package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"unicode"

	"github.com/pathguard/pathguard/canon"
	"github.com/pathguard/pathguard/confine"
)

var resolveFlags = flagSet{
	bools:  []string{"in-root", "json", "no-symlinks", "no-xdev", "trace"},
	values: []string{"resolver"},
}

// resolveReport is what resolve found, printed as text or, with --json,
// as one JSON object.
type resolveReport struct {
	Root       string `json:"root"`               // ROOT, made absolute
	Path       string `json:"path"`               // PATH as given
	Mode       string `json:"mode"`               // "beneath" or "in-root"
	NoSymlinks bool   `json:"no_symlinks"`        // --no-symlinks
	NoXDev     bool   `json:"no_xdev"`            // --no-xdev
	Resolver   string `json:"resolver"`           // the backend asked for
	Backend    string `json:"backend,omitempty"`  // the backend that answered
	Resolved   string `json:"resolved,omitempty"` // relative to Root, slash-separated: what exists
	Missing    string `json:"missing,omitempty"`  // the tail that does not exist yet, if any
	Absolute   string `json:"absolute,omitempty"` // Root joined with Resolved and Missing
	Inside     bool   `json:"inside"`             // resolved, and inside Root
	Escape     bool   `json:"escape"`             // the error is confine.ErrEscape
	// EscapeVia says what led out, when Escape is true and the walk can
	// tell: the link and its text, a ".." of PATH, or PATH being absolute.
	EscapeVia *escapeVia  `json:"escape_via,omitempty"`
	Trace     []traceStep `json:"trace,omitempty"` // --trace: every step of the walk
	Note      string      `json:"note,omitempty"`  // what else the auditor should know
	Error     string      `json:"error,omitempty"`
	ErrorKind string      `json:"error_kind,omitempty"` // see errorKind
}

// escapeVia is what made PATH escape.
type escapeVia struct {
	Kind   string `json:"kind"`             // "link", "dotdot" (a ".." of PATH) or "absolute" (PATH itself)
	Link   string `json:"link,omitempty"`   // kind "link": where the link is, relative to Root
	Target string `json:"target,omitempty"` // kind "link": its text
}

// traceStep is one step of the walk (internal/resolve.Step).
type traceStep struct {
	Kind   string `json:"kind"`             // enter, link, dotdot, mount or missing
	Name   string `json:"name"`             // the component taken
	Target string `json:"target,omitempty"` // link: its text
	Path   string `json:"path"`             // where the walk stands after the step ("." is Root)
	Rest   string `json:"rest,omitempty"`   // missing: what was left to resolve after Name
	left   int    // components left after this one (Step.Left)
}

func runResolve(args []string, stdout, stderr io.Writer) int {
	p, code := resolveFlags.parseCommand("resolve", resolveHelp, args, 2, "ROOT and PATH", stdout, stderr)
	if p == nil {
		return code
	}
	var opts []confine.Option
	rep := resolveReport{
		Root:       p.args[0],
		Path:       p.args[1],
		Mode:       "beneath",
		NoSymlinks: p.bools["no-symlinks"],
		NoXDev:     p.bools["no-xdev"],
		Resolver:   p.last("resolver", "auto"),
	}
	switch rep.Resolver {
	case "auto":
		opts = append(opts, confine.WithResolver(confine.ResolverAuto))
	case "openat2":
		opts = append(opts, confine.WithResolver(confine.ResolverOpenat2))
	case "walk":
		opts = append(opts, confine.WithResolver(confine.ResolverWalk))
	default:
		return usageFail("resolve", args, stdout, stderr, "--resolver must be auto, openat2 or walk, not %q", rep.Resolver)
	}
	if p.bools["in-root"] {
		rep.Mode = "in-root"
		opts = append(opts, confine.InRoot())
	}
	if rep.NoSymlinks {
		opts = append(opts, confine.NoSymlinks())
	}
	if rep.NoXDev {
		opts = append(opts, confine.NoXDev())
	}
	if abs, err := filepath.Abs(rep.Root); err == nil {
		rep.Root = abs
	}

	opened := resolveIn(&rep, opts, p.bools["trace"])

	if !emit(p.bools["json"], &rep, stdout, stderr) {
		return exitError
	}
	switch {
	case !opened:
		return exitError // no verdict on PATH: ROOT could not be opened
	case !rep.Inside:
		return exitFail
	}
	return exitOK
}

// resolveIn opens rep.Root with opts and fills in where rep.Path leads.
// The Root's own backend gives the answer. The walk is traced when asked,
// when the name does not exist (to tell what does) and when it escapes
// (to tell through what). It reports whether ROOT could be opened.
func resolveIn(rep *resolveReport, opts []confine.Option, trace bool) bool {
	root, err := confine.OpenRoot(rep.Root, opts...)
	if err != nil {
		rep.setError(err)
		rep.Escape = false
		return false
	}
	defer root.Close()
	rel, err := root.Resolve(rep.Path)
	// Read the backend after the call: a Root may fall back to the walk
	// during it, when openat2 has proved to be gone.
	rep.Backend = root.Resolver().String()

	var steps []traceStep
	var traced string
	var terr error
	notExist, escape := errors.Is(err, fs.ErrNotExist), errors.Is(err, confine.ErrEscape)
	if trace || notExist || escape {
		traced, steps, terr = traceWalk(rep)
		if trace {
			rep.Trace = steps
			if !errors.Is(terr, errors.ErrUnsupported) && (traced != rel || (terr == nil) != (err == nil)) {
				rep.Note = "the traced walk and the resolver disagree: the tree changed during the call"
			}
		}
	}
	switch {
	case err == nil:
		rep.Resolved = rel
		rep.Absolute = filepath.Join(rep.Root, filepath.FromSlash(rel))
		rep.Inside = true
		return true
	case notExist && errors.Is(terr, fs.ErrNotExist) && len(steps) > 0 && steps[len(steps)-1].Kind == "missing":
		// A name that does not exist yet (a file about to be created):
		// what exists is resolved, the rest is reported. A ".." in the
		// rest would depend on what gets created: no verdict then.
		last := steps[len(steps)-1]
		missing := last.Name
		if last.Rest != "" {
			missing += "/" + last.Rest
		}
		if !slices.Contains(strings.Split(missing, "/"), "..") {
			rep.Resolved = last.Path
			rep.Missing = missing
			rep.Absolute = filepath.Join(rep.Root, filepath.FromSlash(last.Path), filepath.FromSlash(missing))
			rep.Inside = true
			rep.Note = fmt.Sprintf("%s does not exist yet in %s", show(missing), show(last.Path))
			return true
		}
		rep.Note = fmt.Sprintf("%s does not exist in %s, and where its \"..\" leads depends on what is created", show(missing), show(last.Path))
	}
	rep.setError(err)
	if escape {
		rep.EscapeVia = escapeCause(rep.Path, steps)
	}
	// Unsupported here (confine delegates to os.Root outside Linux): no
	// verdict either.
	return !errors.Is(err, errors.ErrUnsupported)
}

// escapeCause tells what made the walk in steps leave the root: its last
// step is the link with an absolute text or the ".." that stepped out
// (the walk stops there). A ".." that came out of a link's text is that
// link's doing: the innermost link whose text was being read.
func escapeCause(path string, steps []traceStep) *escapeVia {
	if path != "" && path[0] == '/' {
		return &escapeVia{Kind: "absolute"}
	}
	if len(steps) == 0 {
		return nil
	}
	linkAt := func(s traceStep) *escapeVia {
		at := s.Name
		if s.Path != "." {
			at = s.Path + "/" + s.Name
		}
		return &escapeVia{Kind: "link", Link: at, Target: s.Target}
	}
	last := steps[len(steps)-1]
	switch last.Kind {
	case "link":
		return linkAt(last)
	case "dotdot":
		// The components of a link's text come out with left at least
		// the link's own left; once a step has less, the text is used up.
		var open []traceStep
		for _, s := range steps {
			for len(open) > 0 && s.left < open[len(open)-1].left {
				open = open[:len(open)-1]
			}
			if s.Kind == "link" {
				open = append(open, s)
			}
		}
		if len(open) > 0 {
			return linkAt(open[len(open)-1])
		}
		return &escapeVia{Kind: "dotdot"}
	}
	return nil
}

func (rep *resolveReport) setError(err error) {
	rep.Error = err.Error()
	rep.ErrorKind = errorKind(err)
	rep.Escape = errors.Is(err, confine.ErrEscape)
}

// errorKind names the class of err for scripts that read --json, so they
// need not match error strings. ErrEscape and ErrCrossDevice both match
// EXDEV, so they are tested first, each on its own value.
func errorKind(err error) string {
	switch {
	case errors.Is(err, confine.ErrEscape):
		return "escape"
	case errors.Is(err, confine.ErrCrossDevice):
		return "cross-device"
	case errors.Is(err, confine.ErrSymlink):
		return "symlink"
	case errors.Is(err, canon.ErrInvalid):
		return "invalid"
	case errors.Is(err, fs.ErrNotExist):
		return "not-exist"
	case errors.Is(err, errors.ErrUnsupported):
		return "unsupported"
	case errors.Is(err, fs.ErrPermission):
		return "permission"
	case errors.Is(err, syscall.ELOOP):
		return "loop" // too many links, or a /proc magic link
	case errors.Is(err, syscall.ENOTDIR):
		return "not-dir"
	}
	return "other"
}

// writeText prints rep as aligned "key: value" lines.
func (rep *resolveReport) writeText(w io.Writer) {
	mode := rep.Mode
	if rep.NoSymlinks {
		mode += ", no-symlinks"
	}
	if rep.NoXDev {
		mode += ", no-xdev"
	}
	resolver := rep.Resolver
	if rep.Backend != "" && rep.Backend != rep.Resolver {
		resolver += " (" + rep.Backend + ")"
	}
	line := func(k, v string) { fmt.Fprintf(w, "%-9s %s\n", k+":", v) }
	line("root", show(rep.Root))
	line("path", show(rep.Path))
	line("mode", mode)
	line("resolver", resolver)
	if len(rep.Trace) > 0 {
		fmt.Fprintln(w, "trace:")
		for i, s := range rep.Trace {
			var what string
			switch s.Kind {
			case "enter":
				what = fmt.Sprintf("%s, now at %s", show(s.Name), show(s.Path))
			case "link":
				what = fmt.Sprintf("%s -> %s, in %s", show(s.Name), show(s.Target), show(s.Path))
			case "dotdot":
				what = fmt.Sprintf(".., now at %s", show(s.Path))
				if i == len(rep.Trace)-1 && rep.Escape {
					what = fmt.Sprintf(".. at %s: leaves ROOT", show(s.Path))
				}
			case "mount":
				what = fmt.Sprintf("crossed into another mount at %s", show(s.Path))
			case "missing":
				what = fmt.Sprintf("%s does not exist in %s", show(s.Name), show(s.Path))
				if s.Rest != "" {
					what += ", left: " + show(s.Rest)
				}
			}
			fmt.Fprintf(w, "  %3d %-8s %s\n", i+1, s.Kind, what)
		}
	}
	if rep.Inside {
		line("resolved", show(rep.Resolved))
		if rep.Missing != "" {
			line("missing", show(rep.Missing))
		}
		line("absolute", show(rep.Absolute))
		if rep.Note != "" {
			line("note", rep.Note)
		}
		return
	}
	line("error", show(rep.Error))
	line("escape", strconv.FormatBool(rep.Escape))
	if v := rep.EscapeVia; v != nil {
		switch v.Kind {
		case "link":
			line("via", fmt.Sprintf("link %s -> %s", show(v.Link), show(v.Target)))
		case "dotdot":
			line("via", `a ".." of PATH`)
		case "absolute":
			line("via", "PATH is absolute")
		}
	}
	if rep.Note != "" {
		line("note", rep.Note)
	}
}

// show returns s as it is when every rune in it is printable, with no
// quote and no space but inner plain ones, and quoted otherwise: names come from people who may
// put newlines or terminal escape sequences in them, and an auditor must
// see them, not have them acted on.
func show(s string) string {
	if s != strings.TrimSpace(s) {
		return strconv.Quote(s)
	}
	if strings.IndexFunc(s, func(r rune) bool {
		return r == '"' || r == unicode.ReplacementChar || !unicode.IsGraphic(r) || (unicode.IsSpace(r) && r != ' ')
	}) < 0 {
		return s
	}
	return strconv.Quote(s)
}
