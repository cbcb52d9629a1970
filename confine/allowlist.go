package confine

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/pathguard/pathguard/internal/resolve"
)

// Allowlist confines absolute user paths to a set of allowed directories,
// each held open as a Root.
type Allowlist struct {
	mu     sync.RWMutex // guards the fields below against Close
	dirs   [][]string   // components of each allowed directory
	roots  []*Root
	closed bool
}

// OpenAllowlist opens each of dirs (absolute, trusted paths) as a Root with
// opts. If one cannot be opened, those already opened are closed and the
// error is returned.
func OpenAllowlist(dirs []string, opts ...Option) (*Allowlist, error) {
	a := &Allowlist{}
	for _, d := range dirs {
		if !filepath.IsAbs(d) {
			a.Close()
			return nil, &fs.PathError{Op: "openallowlist", Path: d, Err: resolve.ErrInvalid}
		}
		r, err := OpenRoot(d, opts...)
		if err != nil {
			a.Close()
			return nil, err
		}
		a.dirs = append(a.dirs, components(filepath.Clean(d)))
		a.roots = append(a.roots, r)
	}
	return a, nil
}

// components splits p into its components, dropping "." and empty ones
// (repeated slashes) but keeping "..": lexical cleaning would change the
// meaning of "/srv/data/l/../x" when l is a link.
func components(p string) []string {
	var out []string
	for _, c := range strings.Split(p, "/") {
		if c != "" && c != "." {
			out = append(out, c)
		}
	}
	return out
}

// Locate picks the longest allowed directory that is a whole-component
// prefix of the absolute path p and returns its Root (owned by the
// Allowlist: do not close it) and the rest of p, unresolved and ".."
// included, for that Root to resolve ("." when p names the directory
// itself). A path under no allowed directory is ErrEscape.
//
// If there is an error, it will be of type *fs.PathError.
func (a *Allowlist) Locate(p string) (*Root, string, error) {
	if err := resolve.Validate(p); err != nil {
		return nil, "", &fs.PathError{Op: "locate", Path: p, Err: err}
	}
	a.mu.RLock()
	defer a.mu.RUnlock()
	if a.closed {
		return nil, "", &fs.PathError{Op: "locate", Path: p, Err: fs.ErrClosed}
	}
	if !strings.HasPrefix(p, "/") {
		return nil, "", &fs.PathError{Op: "locate", Path: p, Err: ErrEscape}
	}
	pc := components(p)
	best := -1
	for i, d := range a.dirs {
		if len(d) > len(pc) || (best >= 0 && len(d) <= len(a.dirs[best])) {
			continue
		}
		if equalPrefix(d, pc) {
			best = i
		}
	}
	if best < 0 {
		return nil, "", &fs.PathError{Op: "locate", Path: p, Err: ErrEscape}
	}
	rest := strings.Join(pc[len(a.dirs[best]):], "/")
	switch {
	case rest == "":
		rest = "."
	case strings.HasSuffix(p, "/"), strings.HasSuffix(p, "/."):
		// A trailing "/" or "/." asks for a directory (and follows a
		// final link): keep that meaning in the remainder.
		rest += "/"
	}
	return a.roots[best], rest, nil
}

func equalPrefix(prefix, s []string) bool {
	for i := range prefix {
		if prefix[i] != s[i] {
			return false
		}
	}
	return true
}

// Open opens the absolute path p for reading inside whichever allowed
// directory holds it. See Locate and Root.OpenFile.
func (a *Allowlist) Open(p string) (*os.File, error) {
	return a.OpenFile(p, os.O_RDONLY, 0)
}

// OpenFile opens the absolute path p inside whichever allowed directory
// holds it, with Root.OpenFile's semantics. Errors name p, the caller's
// own path.
//
// If there is an error, it will be of type *fs.PathError.
func (a *Allowlist) OpenFile(p string, flag int, perm fs.FileMode) (*os.File, error) {
	r, rest, err := a.Locate(p)
	if err != nil {
		return nil, err
	}
	f, err := r.OpenFile(rest, flag, perm)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			pe.Path = p
		}
		return nil, err
	}
	return f, nil
}

// Close closes every Root of the Allowlist.
func (a *Allowlist) Close() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	var errs []error
	for _, r := range a.roots {
		errs = append(errs, r.Close())
	}
	a.roots, a.dirs, a.closed = nil, nil, true
	return errors.Join(errs...)
}
