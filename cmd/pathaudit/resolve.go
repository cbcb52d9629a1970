package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"unicode"

	"github.com/pathguard/pathguard/canon"
	"github.com/pathguard/pathguard/confine"
)

var resolveFlags = flagSet{
	bools:  []string{"in-root", "json", "no-symlinks", "no-xdev"},
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
	Resolved   string `json:"resolved,omitempty"` // relative to Root, slash-separated
	Absolute   string `json:"absolute,omitempty"` // Root joined with Resolved
	Inside     bool   `json:"inside"`             // resolved, and inside Root
	Escape     bool   `json:"escape"`             // the error is confine.ErrEscape
	Error      string `json:"error,omitempty"`
	ErrorKind  string `json:"error_kind,omitempty"` // see errorKind
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

	resolveIn(&rep, opts)

	if p.bools["json"] {
		if err := writeJSON(stdout, rep); err != nil {
			fmt.Fprintf(stderr, "pathaudit: %v\n", err)
			return exitFail
		}
	} else {
		rep.writeText(stdout)
	}
	if !rep.Inside {
		return exitFail
	}
	return exitOK
}

// resolveIn opens rep.Root with opts and fills in where rep.Path leads.
func resolveIn(rep *resolveReport, opts []confine.Option) {
	root, err := confine.OpenRoot(rep.Root, opts...)
	if err != nil {
		rep.setError(err)
		return
	}
	defer root.Close()
	rel, err := root.Resolve(rep.Path)
	// Read the backend after the call: a Root may fall back to the walk
	// during it, when openat2 has proved to be gone.
	rep.Backend = root.Resolver().String()
	if err != nil {
		rep.setError(err)
		return
	}
	rep.Resolved = rel
	rep.Absolute = filepath.Join(rep.Root, filepath.FromSlash(rel))
	rep.Inside = true
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
	if rep.Inside {
		line("resolved", show(rep.Resolved))
		line("absolute", show(rep.Absolute))
		return
	}
	line("error", show(rep.Error))
	line("escape", strconv.FormatBool(rep.Escape))
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
