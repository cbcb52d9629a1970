package extract

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
)

var (
	// ErrLimit means a limit was exceeded: bytes written to one file or in
	// all, entries, a zip entry's compression ratio, the depth or length of
	// a name, or the deadline of the context given with WithContext (the
	// error then also matches the context's own error). It is never
	// skipped: the extraction stops.
	ErrLimit = errors.New("extract: limit exceeded")

	// ErrHardLink means a hard link entry names something other than a
	// regular file that this extraction wrote: a directory, a device, a
	// file that was already in the destination, a missing entry, or a
	// file that was replaced since it was written.
	ErrHardLink = errors.New("extract: hard link target is not a regular file written by this extraction")
)

// Limits bound what an extraction may write. A zero field keeps the
// default (DefaultLimits); a negative field removes that limit.
type Limits struct {
	// FileSize bounds the bytes written to one file (a sparse entry counts
	// its full logical size). Default 1 GiB.
	FileSize int64
	// TotalSize bounds the bytes written in all. Default 4 GiB.
	TotalSize int64
	// Entries bounds the entries read, skipped and refused ones included.
	// Default 1 << 20.
	Entries int
	// Ratio bounds a zip entry's bytes written per byte of its compressed
	// data, once RatioGrace bytes have been written. Default 200.
	Ratio int64
	// RatioGrace is how much a zip entry may write before Ratio applies.
	// Default 1 MiB.
	RatioGrace int64
	// Depth bounds the components of a name. Default 128.
	Depth int
	// NameLength bounds the bytes of a name, once cleaned. Default 4095
	// (PATH_MAX less its NUL); a longer name is canon.ErrInvalid anyway.
	NameLength int
}

// DefaultLimits returns the limits an extraction has unless WithLimits
// says otherwise.
func DefaultLimits() Limits {
	return Limits{
		FileSize:   1 << 30,
		TotalSize:  4 << 30,
		Entries:    1 << 20,
		Ratio:      200,
		RatioGrace: 1 << 20,
		Depth:      128,
		NameLength: 4095,
	}
}

// merged returns l with its zero fields set to the defaults.
func (l Limits) merged() Limits {
	d := DefaultLimits()
	if l.FileSize == 0 {
		l.FileSize = d.FileSize
	}
	if l.TotalSize == 0 {
		l.TotalSize = d.TotalSize
	}
	if l.Entries == 0 {
		l.Entries = d.Entries
	}
	if l.Ratio == 0 {
		l.Ratio = d.Ratio
	}
	if l.RatioGrace == 0 {
		l.RatioGrace = d.RatioGrace
	}
	if l.Depth == 0 {
		l.Depth = d.Depth
	}
	if l.NameLength == 0 {
		l.NameLength = d.NameLength
	}
	return l
}

// linkPolicy says what becomes of symlink entries.
type linkPolicy int

const (
	linkWithin linkPolicy = iota
	linkDeny
	linkVerbatim
)

type config struct {
	links    linkPolicy
	replace  bool
	limits   Limits
	ctx      context.Context
	progress func(Progress)
	skip     bool
	special  bool
	owners   bool
}

// An Option configures an extraction.
type Option func(*config)

// LinkWithin creates a symlink entry only when its target, read from the
// link's own directory, stays inside the root: a relative target whose
// ".." components all come first and are no more than the directories
// above the link. This is the default. A ".." after another component is
// refused, since that component might itself be a link ("l -> ." then
// "m -> l/../x" leaves the root although "l/../x" cleans to "x").
// A refused target is confine.ErrEscape.
func LinkWithin() Option { return func(c *config) { c.links = linkWithin } }

// LinkDeny refuses every symlink entry, with confine.ErrSymlink.
func LinkDeny() Option { return func(c *config) { c.links = linkDeny } }

// LinkVerbatim creates symlink entries with their targets as they are,
// wherever they lead: the extractor never follows a link anyway, but
// whatever reads the tree later might.
func LinkVerbatim() Option { return func(c *config) { c.links = linkVerbatim } }

// Replace lets an entry replace an existing file, symlink or special file
// at its name (one written earlier by the same extraction included): the
// entry is written under a temporary name in the same directory and
// renamed over the old one, so nothing is ever written through what was
// there. A directory is never replaced.
func Replace() Option { return func(c *config) { c.replace = true } }

// WithLimits sets the limits; zero fields keep their defaults.
func WithLimits(l Limits) Option { return func(c *config) { c.limits = l } }

// WithContext stops the extraction, with an error matching both ErrLimit
// and ctx.Err(), once ctx is done. It is checked before each entry and
// between the chunks of a file.
func WithContext(ctx context.Context) Option { return func(c *config) { c.ctx = ctx } }

// WithProgress calls fn after each entry and every few MiB within a
// large file, on the extracting goroutine.
func WithProgress(fn func(Progress)) Option { return func(c *config) { c.progress = fn } }

// SkipRefused makes a refused entry a skipped one: the Report says which
// and why, and the extraction goes on. Limits still stop it.
func SkipRefused() Option { return func(c *config) { c.skip = true } }

// WithSpecialFiles creates FIFOs and device files (devices need
// privilege) instead of skipping them. Sockets are always skipped.
func WithSpecialFiles() Option { return func(c *config) { c.special = true } }

// KeepOwners gives entries the owner and group the archive records, by
// number, when the process runs as root; otherwise it has no effect and
// entries belong to the extracting user.
func KeepOwners() Option { return func(c *config) { c.owners = true } }

func buildConfig(opts []Option) config {
	c := config{ctx: context.Background()}
	for _, o := range opts {
		if o != nil {
			o(&c)
		}
	}
	c.limits = c.limits.merged()
	if c.ctx == nil {
		c.ctx = context.Background()
	}
	return c
}

// Progress is what a WithProgress callback is told.
type Progress struct {
	Entries int    // entries finished (written, skipped or refused)
	Written int64  // bytes written so far, in all
	Name    string // the entry in progress or just finished, as in the archive
}

// Kind is the type of an archive entry.
type Kind uint8

const (
	KindFile Kind = iota
	KindDir
	KindSymlink
	KindHardLink
	KindFIFO
	KindCharDevice
	KindBlockDevice
	KindSocket
	KindOther // a type this package does not know (tar type flags it does not handle)
)

var kindNames = [...]string{"file", "dir", "symlink", "hardlink", "fifo", "chardev", "blockdev", "socket", "other"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("Kind(%d)", k)
}

// kindOf is the Kind of an fs.FileMode's type bits.
func kindOf(m fs.FileMode) Kind {
	switch m.Type() {
	case 0:
		return KindFile
	case fs.ModeDir:
		return KindDir
	case fs.ModeSymlink:
		return KindSymlink
	case fs.ModeNamedPipe:
		return KindFIFO
	case fs.ModeDevice | fs.ModeCharDevice:
		return KindCharDevice
	case fs.ModeDevice:
		return KindBlockDevice
	case fs.ModeSocket:
		return KindSocket
	}
	return KindOther
}

// Action is what became of an entry.
type Action uint8

const (
	Written Action = iota // created, or for a directory, created or merged into
	Skipped               // not created, by policy or by SkipRefused; Reason says why
	Refused               // refused: the extraction stopped here (Scan goes on)
)

func (a Action) String() string {
	switch a {
	case Written:
		return "written"
	case Skipped:
		return "skipped"
	case Refused:
		return "refused"
	}
	return fmt.Sprintf("Action(%d)", a)
}

// Entry is one line of a Report.
type Entry struct {
	Name   string // as in the archive, unchanged
	Kind   Kind
	Link   string // a symlink's target or a hard link's target name, as in the archive
	Size   int64  // bytes written
	Action Action
	Reason string // why it was skipped or refused; a note for some written entries
	Err    error  // for a skipped or refused entry, the error (matching a sentinel)
}

// Report lists every entry an extraction read, in archive order.
type Report struct {
	Entries []Entry
	Written int64 // bytes written in all
}

// Problems returns the entries that were skipped or refused.
func (r *Report) Problems() []Entry {
	var out []Entry
	for _, e := range r.Entries {
		if e.Action != Written {
			out = append(out, e)
		}
	}
	return out
}

// Err returns the errors of the refused entries joined (errors.Join), or
// nil when none was refused.
func (r *Report) Err() error {
	var errs []error
	for _, e := range r.Entries {
		if e.Action == Refused && e.Err != nil {
			errs = append(errs, e.Err)
		}
	}
	return errors.Join(errs...)
}
