package canon

import (
	"io/fs"
	"path"
	"strings"

	"github.com/pathguard/pathguard/internal/resolve"
)

var (
	// ErrInvalid means a path is unusable as it stands: empty, holding a
	// NUL byte, 4096 bytes or longer (PATH_MAX counts the terminating
	// NUL), or with a component longer than 255 bytes (NAME_MAX). It
	// matches fs.ErrInvalid and syscall.EINVAL under errors.Is.
	//
	// It is the very value that confine and securepath return for the
	// same condition.
	ErrInvalid = resolve.ErrInvalid

	// ErrEscape means that resolving a path would leave its root, through
	// "..", an absolute name or a symlink. It matches syscall.EXDEV (what
	// openat2 with RESOLVE_BENEATH returns) under errors.Is.
	//
	// Nothing in this package returns it: [Join] and [Resolve] re-root
	// every path instead of refusing it. It is re-exported here, as the
	// same value as confine.ErrEscape, so that callers who use canon
	// alone can name it.
	ErrEscape = resolve.ErrEscape
)

// Clean returns the shortest path name equivalent to p by purely lexical
// processing, as [path/filepath.Clean] does on Unix: it collapses repeated
// slashes, removes "." components and trailing slashes, removes each ".."
// together with the component before it, and drops ".." at the start of
// an absolute path. The result is "." when nothing is left of a relative
// path.
//
// Purely lexical means that Clean never looks at the file system, so it
// does not know which components are symlinks: when l is a symlink to
// "x/y", "a/l/.." leads to "a/x", yet Clean returns "a". Clean a path
// before checking it lexically (see [Within]), never instead of resolving
// it (see [Resolve]). Clean also drops a trailing slash, which requires
// the named entry to be a directory.
//
// p is slash-separated on every system. If p is empty, holds a NUL byte,
// is 4096 bytes or longer, or has a component longer than 255 bytes, Clean
// returns an error of type [*fs.PathError] matching [ErrInvalid].
func Clean(p string) (string, error) {
	if err := resolve.Validate(p); err != nil {
		return "", &fs.PathError{Op: "clean", Path: p, Err: err}
	}
	return path.Clean(p), nil
}

// IsLocal reports whether p, using purely lexical analysis, has all of
// these properties: it is within the directory it is evaluated in (after
// cleaning, it is neither ".." nor starts with "../"), it is not absolute,
// and it is valid (not empty, no NUL byte, shorter than 4096 bytes, no
// component longer than 255 bytes).
//
// IsLocal agrees with [path/filepath.IsLocal] on Unix for every valid p.
// Like it, IsLocal says nothing about symlinks: "l/x" is local even when l
// leads outside.
func IsLocal(p string) bool {
	if resolve.Validate(p) != nil || p[0] == '/' {
		return false
	}
	return isLocalClean(path.Clean(p))
}

// isLocalClean reports whether the clean relative path c stays below
// where it starts: a clean path holds ".." only as leading components.
func isLocalClean(c string) bool {
	return c != ".." && !strings.HasPrefix(c, "../")
}

// Within reports whether p names root itself or something below it, by
// purely lexical analysis of both after [Clean]: it compares whole
// components, so "/srv/www/x" and "/srv/www" are within "/srv/www", while
// "/srv/www2" and "/srv/www/../x" (which cleans to "/srv/x") are not.
//
// root and p must both be absolute or both relative; when one is absolute
// and the other is not, Within reports false, since the answer would
// depend on the working directory. Relative paths are compared as they
// stand: "a/b" is within "a" and within ".", "../x" is within ".." but
// not within ".", and "../.." is not within "..". If root or p is invalid
// (see [Clean]), Within reports false.
//
// Within knows nothing of symlinks: "/srv/www/l/x" is within "/srv/www"
// even when l leads outside it. Resolve p first ([Resolve]) or, better,
// act on it through confine.Root.
func Within(root, p string) bool {
	r, err := Clean(root)
	if err != nil {
		return false
	}
	q, err := Clean(p)
	if err != nil {
		return false
	}
	if (r[0] == '/') != (q[0] == '/') {
		return false
	}
	// rest is what p adds to root, as a clean relative path.
	var rest string
	switch {
	case q == r:
		return true
	case r == "/":
		rest = q[1:]
	case r == ".":
		rest = q
	case strings.HasPrefix(q, r) && q[len(r)] == '/':
		// Whole components only: "/srv/www2" has "/srv/www" as a
		// string prefix but not as a path prefix.
		rest = q[len(r)+1:]
	default:
		return false
	}
	// A relative root may start with "..": "../.." shares the prefix
	// "../" with ".." but lies above it.
	return isLocalClean(rest)
}

// Split returns the components of p, in order, leaving out empty ones
// (from repeated, leading or trailing slashes) and "." ones, which never
// change where a path leads. ".." components are kept where they are:
// removing them needs knowledge of symlinks that a string does not have.
// So Split("/a//b/") is ["a" "b"], Split("./a/../b") is ["a" ".." "b"],
// and Split returns nil for "", "/" and ".".
//
// Split does not tell an absolute path from a relative one, nor keep a
// trailing slash, and it does not validate p: check p with [Clean] first
// when it is untrusted.
func Split(p string) []string {
	var parts []string
	for p != "" {
		var c string
		c, p, _ = strings.Cut(p, "/")
		if c != "" && c != "." {
			parts = append(parts, c)
		}
	}
	return parts
}
