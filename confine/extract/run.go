package extract

import (
	"github.com/pathguard/pathguard/confine"
)

// feed hands each header of an archive, in order, to add, and stops at
// the first error add or the archive returns.
type feed func(add func(*header) error) error

// pull is the feed of an iterator: next returns nil at the end.
func pull(next func() (*header, error)) feed {
	return func(add func(*header) error) error {
		for {
			h, err := next()
			if h == nil || err != nil {
				return err
			}
			if err := add(h); err != nil {
				return err
			}
		}
	}
}

// run extracts the headers of in into root, through a view of root that
// refuses every symlink, and applies the directories' modes last.
func run(root *confine.Root, opts []Option, in feed) (*Report, error) {
	view, err := root.Restrict(confine.NoSymlinks())
	if err != nil {
		return &Report{}, err
	}
	defer view.Close()
	x := newExtractor(rootTarget{view}, buildConfig(opts))
	err = in(x.add)
	// Modes and times go on what was made, whatever stopped the loop: a
	// partial tree still gets the modes the archive asked for.
	if ferr := x.finish(); err == nil {
		err = ferr
	}
	return &x.rep, err
}

// scan runs the headers through the engine over an empty directory held
// in memory: every decision is made, nothing is written, and refusals do
// not stop it.
func scan(opts []Option, in feed) (*Report, error) {
	x := newExtractor(newSimTarget(), buildConfig(opts))
	x.scan = true
	err := in(x.add)
	return &x.rep, err
}
