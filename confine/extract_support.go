package confine

import "io/fs"

// Restrict returns a new Root on the same directory as r, with r's mode,
// flags and backend, plus the restrictions that opts add: NoSymlinks and
// NoXDev. It is how code that is handed a Root (an extractor, say) gets
// a stricter view of that very directory, with no lookup by name and no
// way to lose a restriction the caller chose. Options that would change
// the mode or the backend (InRoot, WithResolver) are refused with
// canon.ErrInvalid: they are not restrictions. The new Root holds its own
// descriptor and must be closed. Outside Linux, adding a flag is
// errors.ErrUnsupported.
//
// If there is an error, it will be of type [*fs.PathError].
func (r *Root) Restrict(opts ...Option) (*Root, error) {
	c, err := r.r.restrict(buildOptions(opts))
	if err != nil {
		return nil, err
	}
	return &Root{r: c}, nil
}

// Mknod creates the named FIFO or device file in the root. mode holds
// exactly one of fs.ModeNamedPipe, fs.ModeDevice or
// fs.ModeDevice|fs.ModeCharDevice, and permission bits within 0o777
// (before umask); anything else is refused with canon.ErrInvalid. dev is
// the device number (ignored for a FIFO). As with Mkdir, the parent is
// resolved on held fds and the node is made with one mknodat on the
// final component, which is never followed: an existing entry, a link
// included, is fs.ErrExist. Devices need privilege (EPERM otherwise).
// Outside Linux it returns errors.ErrUnsupported.
//
// If there is an error, it will be of type [*fs.PathError].
func (r *Root) Mknod(name string, mode fs.FileMode, dev uint64) error {
	return r.r.mknod(name, mode, dev)
}
