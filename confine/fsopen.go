package confine

// NoSpecialFiles makes the Root open only regular files and directories.
// Every open first resolves the name to an O_PATH descriptor, which opens
// nothing, looks at the file's type on that descriptor (fstat), and only
// then opens that very file with the caller's flags, through its
// /proc/self/fd entry on a checked procfs handle: a device, FIFO or
// socket is refused with ErrSpecialFile (which matches fs.ErrPermission)
// before any open that could block (a FIFO without a writer) or have a
// side effect (a tape rewinding, a terminal becoming the controlling
// one). Root.FS, Root.Open, Root.ReadFile and the rest honour it; O_PATH
// opens, which have no side effects, are passed through.
//
// With NoSpecialFiles, O_CREATE creates a file only where nothing is: a
// new regular file made with O_EXCL. A name that exists is opened as
// above, and O_CREATE through a dangling final link is refused with
// fs.ErrExist instead of creating the link's target.
//
// It needs /proc (Linux); outside Linux OpenRoot refuses it with
// errors.ErrUnsupported.
func NoSpecialFiles() Option { return func(o *options) { o.noSpecial = true } }
