package resolve

import (
	"strings"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"github.com/pathguard/pathguard/internal/sys"
)

// DirPrefix resolves as much of name as exists, as a directory: the
// lookup MkdirAll needs, done once however many components are missing.
// It returns an O_PATH fd on the directory reached and rest, the part of
// name not resolved: "" when all of name leads to a directory; otherwise
// rest begins with a component of name itself that fd lacks, or holds as
// something that is not a directory (the caller makes it, or judges the
// entry, with *at calls on fd that follow nothing). fd is the Engine's
// root fd, which the caller must not close, when nothing of name was
// resolved beyond the root; any other fd is the caller's.
//
// Links in name are followed as in any lookup. The walk reports a link
// whose target is missing as EEXIST (an entry is there, and what it leads
// to is never made) and one that leads to a non-directory as ENOTDIR;
// openat2 cannot tell where it stopped, so with it such a link is the
// first component of rest, for the caller to judge.
func (r *Engine) DirPrefix(name string) (fd int, rest string, err error) {
	if err := r.check(name); err != nil {
		return -1, "", err
	}
	if r.Backend() == Openat2 {
		return r.probePrefix(name)
	}
	type found struct {
		fd   int
		rest string
	}
	f, err := retrying(func() (found, error) {
		fd, rest, err := r.dirPrefix(name)
		return found{fd, rest}, err
	})
	if err != nil {
		return -1, "", r.mapErr(err)
	}
	return f.fd, f.rest, nil
}

// probePrefix is DirPrefix with openat2: the whole name first (a
// directory that exists, the common case, is one call), then prefixes of
// whole components, stepping back 1, 2, 4... components and then
// bisecting, so k missing levels cost about 2 log2 k calls. Each probe
// is a complete lookup under the Engine's policy, so the answer is a
// directory inside the root whichever prefix it is.
func (r *Engine) probePrefix(name string) (int, string, error) {
	// ends[i] is where the prefix of i components ends; ends[0], the
	// root, is known to be a directory and never probed.
	ends := []int{0}
	for i := 0; i < len(name); i++ {
		if name[i] != '/' && (i+1 == len(name) || name[i+1] == '/') {
			ends = append(ends, i+1)
		}
	}
	if len(ends) == 1 {
		return r.root, "", nil // "/" in InRoot mode: the root
	}
	lo, hi, fd := 0, len(ends), r.root // prefix lo is fd; hi fails
	probe := func(i int) (bool, error) {
		p, err := retrying(func() (int, error) { return r.open(name[:ends[i]], unix.O_PATH|unix.O_DIRECTORY, 0) })
		if err == unix.ENOENT || err == unix.ENOTDIR {
			hi = i
			return false, nil
		}
		if err != nil {
			return false, r.mapErr(err)
		}
		if fd != r.root {
			sys.Close(fd)
		}
		lo, fd = i, p
		return true, nil
	}
	fail := func(err error) (int, string, error) {
		if fd != r.root {
			sys.Close(fd)
		}
		return -1, "", err
	}
	if ok, err := probe(len(ends) - 1); err != nil {
		return fail(err)
	} else if ok {
		return fd, "", nil
	}
	for step := 1; hi-step > lo; step *= 2 {
		ok, err := probe(hi - step)
		if err != nil {
			return fail(err)
		}
		if ok {
			break
		}
	}
	for hi-lo > 1 {
		if _, err := probe((lo + hi) / 2); err != nil {
			return fail(err)
		}
	}
	return fd, name[ends[lo]:], nil
}

// dirPrefix is one attempt of DirPrefix with the walk: one walker,
// resolving name one of its own components at a time on the stack it
// keeps, so the whole costs what one lookup of name costs. A component
// in the middle is walked as "comp/.", so a link there is not the
// trailing link of the lookup (fs.protected_symlinks does not apply to
// it, as in the kernel); the last one is walked alone and is trailing.
func (r *Engine) dirPrefix(name string) (int, string, error) {
	w := r.newWalker()
	defer w.close()
	rest := name
	for {
		rest = strings.TrimLeft(rest, "/")
		if rest == "" {
			return w.take(), "", nil
		}
		comp, tail, _ := strings.Cut(rest, "/")
		last := strings.Trim(tail, "/") == ""
		step := comp + "/."
		if last {
			step = comp
		}
		// A link followed for comp counts a hop (readLink).
		hops := w.hops
		_, err := w.walk(step, walkOpts{follow: true})
		followed := w.hops != hops
		switch {
		case err == nil && (!last || w.top().mode&unix.S_IFMT == unix.S_IFDIR):
			rest = tail
			continue
		case err == nil && followed:
			return -1, "", unix.ENOTDIR // a final link to a non-directory
		case err == nil:
			// The last component, not a directory: its parent is the
			// answer.
			w.pop()
		case err == unix.ENOENT && followed:
			return -1, "", unix.EEXIST // a dangling link
		case (err == unix.ENOENT || err == unix.ENOTDIR) && !followed:
			// comp itself is missing, or not a directory, in the
			// directory on top; the walk stopped before entering it.
		default:
			return -1, "", err
		}
		return w.take(), rest, nil
	}
}

// take hands the caller the fd of the directory on top of the walker's
// stack: its own when deeper than the root, else the root's.
func (w *walker) take() int {
	if len(w.stack) == 1 {
		return w.r.root
	}
	return w.detach()
}

// lookupHook, when set, is told the name of every lookup an Engine is
// asked for (SetLookupHookForTest).
var lookupHook atomic.Pointer[func(name string)]

// SetLookupHookForTest makes every Engine call fn with the name of each
// lookup it is asked for (Open, Parent, DirPrefix, Resolve, Trace), and
// returns a function that removes it. Tests in other packages use it to
// count the work an operation asks of the engine; it must not be used
// otherwise.
func SetLookupHookForTest(fn func(name string)) (restore func()) {
	lookupHook.Store(&fn)
	return func() { lookupHook.Store(nil) }
}
