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

// observer receives each step of a walk, with the fd the step reached
// (the entry pushed, or the new top after ".."), -1 for a link. The fd
// is the walker's and valid only during the call.
type observer func(s Step, fd int)

// note reports a step to the walker's observer, if any: the one hook the
// walk has. todo is the stack of components still to resolve.
func (w *walker) note(kind StepKind, comp, target string, todo []string, fd int) {
	if w.obs == nil {
		return
	}
	w.obs(Step{Kind: kind, Name: comp, Target: target, Path: w.path(), Left: len(todo)}, fd)
}

// noteMissing reports a component that is not there: ENOENT, or ENOTDIR
// for a file where a directory is needed.
func (w *walker) noteMissing(err error, comp string, todo []string) {
	if w.obs == nil || (err != unix.ENOENT && err != unix.ENOTDIR) {
		return
	}
	rest := slices.Clone(todo)
	slices.Reverse(rest)
	w.obs(Step{Kind: StepMissing, Name: comp, Path: w.path(), Rest: strings.Join(rest, "/"), Left: len(todo)}, -1)
}

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
	w.obs = func(s Step, fd int) {
		steps = append(steps, s)
		if fd < 0 {
			return
		}
		// Mount ids, as NoXDev compares them: st_dev would miss bind
		// mounts and see btrfs subvolumes as mounts.
		if id, err := sys.MountID(fd); err == nil && id != cur {
			cur = id
			steps = append(steps, Step{Kind: StepMount, Name: s.Name, Path: s.Path, Left: s.Left})
		}
	}
	if _, err := w.walk(name, walkOpts{follow: true}); err != nil {
		return "", steps, r.mapErr(err)
	}
	return w.path(), steps, nil
}
