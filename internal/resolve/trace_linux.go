package resolve

import (
	"slices"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/pathguard/pathguard/internal/sys"
)

// StepKind says what one step of a traced walk did.
type StepKind uint8

const (
	// StepEnter: a component was opened in the directory on top of the
	// stack and pushed (a directory entered, or the final entry reached).
	StepEnter StepKind = iota + 1
	// StepLink: a symlink was read; its text is resolved next, in place
	// of the component.
	StepLink
	// StepDotDot: ".." popped the stack; at the root it stays there
	// (InRoot) or escapes (Beneath, the walk's last step then).
	StepDotDot
	// StepMount: the step before crossed into another mount (its
	// mount id differs from the directory it came from).
	StepMount
	// StepMissing: the component does not exist (or is not a
	// directory where one is needed); the walk stops there.
	StepMissing
)

func (k StepKind) String() string {
	switch k {
	case StepEnter:
		return "enter"
	case StepLink:
		return "link"
	case StepDotDot:
		return "dotdot"
	case StepMount:
		return "mount"
	case StepMissing:
		return "missing"
	}
	return "unknown"
}

// Step is one step of a traced walk.
type Step struct {
	Kind   StepKind
	Name   string // the component taken
	Target string // StepLink: the link's text
	// Path is where the walk stands after the step, relative to the root
	// ("." for the root): for StepMissing, the directory that lacks Name.
	Path string
	// Rest is, for StepMissing, what was still to resolve after Name,
	// slash-joined: the tail of the name and of any link being expanded.
	Rest string
	// Left counts the components still to resolve after this one. The
	// components of a link's text come out with Left at least the Left of
	// the link's own step, so a caller can tell which link, if any, a
	// component came from.
	Left int
}

// At is what an observer is shown of one step beside the Step: the fds
// and stat are the walker's, valid only during the call.
type At struct {
	// Fd is, for StepEnter, the entry pushed; for StepDotDot, the new
	// top; for StepLink, the directory holding the link; otherwise -1.
	Fd int
	// Stat is, for StepEnter, the entry's stat; for StepLink, the
	// link's own (its owner, Uid, decides whether the directory's
	// judgement allows passing through it); otherwise nil.
	Stat *unix.Stat_t
	// Depth is the number of entries above the root on the stack after
	// the step: 0 at the root. A step at depth d that enters replaces
	// whatever an earlier step left at d; after an absolute link (InRoot)
	// the depth starts again from 0.
	Depth int
}

// Observer receives each step of a walk. A non-nil error stops the walk
// there and is what the lookup returns.
type Observer func(s Step, at At) error

// note reports a step to the walker's observer, if any: the one hook the
// walk has. todo is the stack of components still to resolve; st, if nil
// for a StepEnter (the walk's fast path does not stat), is read here, so
// the walk without an observer pays nothing for it.
func (w *walker) note(kind StepKind, comp, target string, todo []string, fd int, st *unix.Stat_t) error {
	if w.obs == nil {
		return nil
	}
	if kind == StepEnter && st == nil {
		st = new(unix.Stat_t)
		if err := sys.Fstat(fd, st); err != nil {
			return err
		}
	}
	if kind != StepEnter && kind != StepLink {
		st = nil
	}
	s := Step{Kind: kind, Name: comp, Target: target, Path: w.path(), Left: len(todo)}
	return w.obs(s, At{Fd: fd, Stat: st, Depth: len(w.stack) - 1})
}

// noteMissing reports a component that is not there: ENOENT, or ENOTDIR
// for a file where a directory is needed.
func (w *walker) noteMissing(err error, comp string, todo []string) {
	if w.obs == nil || (err != unix.ENOENT && err != unix.ENOTDIR) {
		return
	}
	rest := slices.Clone(todo)
	slices.Reverse(rest)
	s := Step{Kind: StepMissing, Name: comp, Path: w.path(), Rest: strings.Join(rest, "/"), Left: len(todo)}
	// The lookup fails with err whatever the observer says.
	_ = w.obs(s, At{Fd: -1, Depth: len(w.stack) - 1})
}

// Observe opens name as Open(name, flags, 0) does, but always with the
// walk backend, and shows every step to an observer before the walk
// takes the next: each directory entered with its fd and stat, each link
// with the directory holding it and the link's own stat, each "..". The
// final entry is shown before it is opened, so an observer can refuse it
// (a FIFO that O_RDONLY would block on) by returning an error. Every rule
// of the walk applies: the mode, NoSymlinks and NoXDev, the hop limit,
// magic links, fs.protected_symlinks and nosymfollow mounts. A lookup
// that lost a race is run again, as Open does, with a fresh observer from
// newObs each time, so that what one attempt saw does not mix with the
// next.
func (r *Engine) Observe(name string, flags int, newObs func() Observer) (int, error) {
	if err := r.check(name); err != nil {
		return -1, err
	}
	fd, err := retrying(func() (int, error) { return r.walkOpen(name, flags, 0, newObs()) })
	return fd, r.mapErr(err)
}

// EngineOf returns the Engine behind a confine Root (its argument, a
// *confine.Root) or nil for anything else. confine sets it at init; it
// lets securepath, which is handed Roots, walk beneath one with the very
// Engine, mode and flags the Root uses, without public API for it.
var EngineOf func(root any) *Engine

// Trace resolves name as Resolve does, following every link, always with
// the walk backend (openat2 takes one step the kernel does not show), and
// returns where it leads and every step taken: each component entered,
// each link read and its text, each ".." popped, each mount crossed. On
// an error the steps taken so far are returned with it: the last one
// names what failed (the ".." or the link that escaped, the component
// missing).
func (r *Engine) Trace(name string) (string, []Step, error) {
	if err := r.check(name); err != nil {
		return "", nil, err
	}
	w := r.newWalker()
	defer w.close()
	var steps []Step
	cur, err := sys.MountID(r.root)
	if err != nil {
		return "", nil, err
	}
	w.obs = func(s Step, at At) error {
		steps = append(steps, s)
		if s.Kind != StepEnter && s.Kind != StepDotDot {
			return nil
		}
		// Mount ids, as NoXDev compares them: st_dev would miss bind
		// mounts and see btrfs subvolumes as mounts.
		if id, err := sys.MountID(at.Fd); err == nil && id != cur {
			cur = id
			steps = append(steps, Step{Kind: StepMount, Name: s.Name, Path: s.Path, Left: s.Left})
		}
		return nil
	}
	if _, err := w.walk(name, walkOpts{follow: true}); err != nil {
		return "", steps, r.mapErr(err)
	}
	return w.path(), steps, nil
}
