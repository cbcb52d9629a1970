package bench

import (
	"errors"
	"io"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unsafe"

	securejoin "github.com/cyphar/filepath-securejoin"
	pathrs "github.com/cyphar/filepath-securejoin/pathrs-lite"
	"golang.org/x/sys/unix"

	"github.com/pathguard/pathguard/confine"
	"github.com/pathguard/pathguard/internal/testfs"
	"github.com/pathguard/pathguard/securepath"
)

// Every benchmark is named Op/depth=D/sys=S, so benchstat can put the
// systems side by side (-col /sys) and .ci/bench can divide each median by
// the floor of the same operation and depth.
//
// The systems:
//
//	os           package os by path: no safety at all
//	floor        the raw system calls a safe implementation cannot avoid:
//	             openat2(RESOLVE_BENEATH) on a held directory fd, then the
//	             *at or f* call on the result (see each operation)
//	os.Root      Go's own os.Root
//	securejoin   SecureJoin, then package os on the joined string (racy by
//	             nature: measured because it is what callers compare with)
//	pathrs-lite  github.com/cyphar/filepath-securejoin/pathrs-lite:
//	             OpenatInRoot, then Reopen where a real fd is needed
//	openat2, openat2-inroot, walk, walk-inroot
//	             confine.Root with that backend, in Beneath or InRoot mode
//
// A system without the operation is left out of that operation's rows.

// A depth is one row of the tables: the names every system is given.
type depth struct {
	label  string
	file   string // a regular file of 4 KiB
	dir    string // a directory of eight empty files
	parent string // the directory holding file and dir; "" is the root
}

var depths = func() []depth {
	ds := []depth{
		{label: "1"},
		{label: "4", parent: "a/a/a"},
		{label: "16", parent: strings.TrimSuffix(strings.Repeat("a/", 15), "/")},
		// Two links and a "..": l1 => l2 => a/a, so this is a/a/a.
		{label: "links", parent: "l1/a/../a"},
	}
	for i := range ds {
		ds[i].file = join(ds[i].parent, "f")
		ds[i].dir = join(ds[i].parent, "d")
	}
	return ds
}()

// join is path.Join without the cleaning: the names must reach every
// system as written, ".." and all.
func join(parent, name string) string {
	if parent == "" {
		return name
	}
	return parent + "/" + name
}

var fileData = strings.Repeat("x", 4096)

// newTree builds the tree every depth names.
func newTree(b *testing.B) string {
	entries := []string{"l2 => a/a", "l1 => l2"}
	for _, d := range depths[:3] {
		entries = append(entries, join(d.parent, "f="+fileData), join(d.parent, "r0"))
		for i := range 8 {
			entries = append(entries, join(d.dir, "e"+strconv.Itoa(i)))
		}
	}
	return testfs.New(b, entries...)
}

// confineSystems are the four confine.Root configurations.
var confineSystems = []struct {
	name string
	opts []confine.Option
}{
	{"openat2", []confine.Option{confine.WithResolver(confine.ResolverOpenat2)}},
	{"openat2-inroot", []confine.Option{confine.WithResolver(confine.ResolverOpenat2), confine.InRoot()}},
	{"walk", []confine.Option{confine.WithResolver(confine.ResolverWalk)}},
	{"walk-inroot", []confine.Option{confine.WithResolver(confine.ResolverWalk), confine.InRoot()}},
}

// systems lists every system in the order of the table's columns.
var systems = []string{"os", "floor", "os.Root", "securejoin", "pathrs-lite",
	"openat2", "openat2-inroot", "walk", "walk-inroot"}

// env holds what the systems need, opened once per benchmark.
type env struct {
	dir     string   // the tree, absolute
	dirfd   int      // O_PATH fd of dir: the floor's root
	dirFile *os.File // the same fd, for pathrs-lite
	osRoot  *os.Root // os.Root of dir
	roots   map[string]*confine.Root
}

func newEnv(b *testing.B) *env {
	dir := newTree(b)
	fd, err := unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		b.Fatal(err)
	}
	e := &env{dir: dir, dirfd: fd, dirFile: os.NewFile(uintptr(fd), dir), roots: map[string]*confine.Root{}}
	b.Cleanup(func() { e.dirFile.Close() })
	if e.osRoot, err = os.OpenRoot(dir); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { e.osRoot.Close() })
	for _, c := range confineSystems {
		r, err := confine.OpenRoot(dir, c.opts...)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { r.Close() })
		e.roots[c.name] = r
	}
	return e
}

// step is one operation as one system does it; after, if set, runs with
// the timer stopped (undoing what the step made).
type step struct {
	do    func() error
	after func() error
}

// runOp runs op for every depth and system that has it. Each step is
// done once before timing, so a system that fails is reported as an
// error, not measured.
func runOp(b *testing.B, ds []depth, op func(e *env, sys string, d depth) *step) {
	e := newEnv(b)
	for _, d := range ds {
		for _, sys := range systems {
			s := op(e, sys, d)
			if s == nil {
				continue
			}
			b.Run("depth="+d.label+"/sys="+sys, func(b *testing.B) {
				if err := s.do(); err != nil {
					b.Fatal(err)
				}
				if s.after != nil {
					if err := s.after(); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportAllocs()
				for b.Loop() {
					if err := s.do(); err != nil {
						b.Fatal(err)
					}
					if s.after != nil {
						b.StopTimer()
						if err := s.after(); err != nil {
							b.Fatal(err)
						}
						b.StartTimer()
					}
				}
			})
		}
	}
}

func do(fn func() error) *step { return &step{do: fn} }

// physical is the directory a depth's parent names, without links: the
// links row's l1/a/../a is a/a/a, depth 4's.
func physical(parent string) string {
	return path.Clean(strings.Replace(parent, "l1", "a/a", 1))
}

// The floor's system calls. EAGAIN (a rename somewhere in the system
// during a ".." lookup) and EINTR are retried, as any caller must.

func openat2(dirfd int, name string, flags int, mode uint32) (int, error) {
	how := unix.OpenHow{Flags: uint64(flags | unix.O_CLOEXEC), Mode: uint64(mode), Resolve: unix.RESOLVE_BENEATH}
	for {
		fd, err := unix.Openat2(dirfd, name, &how)
		if err != unix.EAGAIN && err != unix.EINTR {
			return fd, err
		}
	}
}

// floorDir resolves the directory name (the root itself when "") to an
// O_PATH fd; done reports whether the caller must close it.
func floorDir(dirfd int, name string) (fd int, done func(), err error) {
	if name == "" {
		return dirfd, func() {}, nil
	}
	fd, err = openat2(dirfd, name, unix.O_PATH|unix.O_DIRECTORY, 0)
	if err != nil {
		return -1, nil, err
	}
	return fd, func() { unix.Close(fd) }, nil
}

// emptyPath is the C string "" that AT_EMPTY_PATH takes.
var emptyPath = [1]byte{}

func fchmodat2(fd int, mode uint32) error {
	_, _, e := unix.Syscall6(unix.SYS_FCHMODAT2, uintptr(fd), uintptr(unsafe.Pointer(&emptyPath[0])), uintptr(mode), unix.AT_EMPTY_PATH, 0, 0)
	if e != 0 {
		return e
	}
	return nil
}

// readAll reads f to its end the way os.ReadFile does: one buffer sized
// from fstat.
func readAll(f *os.File) ([]byte, error) {
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	buf := make([]byte, 0, st.Size()+1)
	for {
		n, err := f.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return nil, err
		}
		if len(buf) == cap(buf) {
			buf = slices.Grow(buf, 512)
		}
	}
}

// readDirFile reads the directory f as os.ReadDir does (entries typed by
// getdents, sorted by name) and closes it.
func readDirFile(f *os.File) error {
	ents, err := f.ReadDir(-1)
	slices.SortFunc(ents, func(a, b os.DirEntry) int { return strings.Compare(a.Name(), b.Name()) })
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

func closeBoth(f *os.File, err error) error {
	if err != nil {
		return err
	}
	return f.Close()
}

// Open: open for reading, then Close. Floor: openat2 + os.NewFile + Close.
func BenchmarkOpen(b *testing.B) {
	runOp(b, depths, func(e *env, sys string, d depth) *step {
		return openStep(e, sys, d.file, unix.O_RDONLY)
	})
}

func openStep(e *env, sys, name string, flags int) *step {
	switch sys {
	case "os":
		p := filepath.Join(e.dir, name)
		return do(func() error { return closeBoth(os.OpenFile(p, flags, 0)) })
	case "floor":
		return do(func() error {
			fd, err := openat2(e.dirfd, name, flags, 0)
			if err != nil {
				return err
			}
			return os.NewFile(uintptr(fd), name).Close()
		})
	case "os.Root":
		return do(func() error { return closeBoth(e.osRoot.OpenFile(name, flags, 0)) })
	case "securejoin":
		return do(func() error {
			p, err := securejoin.SecureJoin(e.dir, name)
			if err != nil {
				return err
			}
			return closeBoth(os.OpenFile(p, flags, 0))
		})
	case "pathrs-lite":
		return do(func() error {
			h, err := pathrs.OpenatInRoot(e.dirFile, name)
			if err != nil {
				return err
			}
			defer h.Close()
			return closeBoth(pathrs.Reopen(h, flags))
		})
	}
	r := e.roots[sys]
	return do(func() error { return closeBoth(r.OpenFile(name, flags, 0)) })
}

// Stat: follow a final link. Floor: openat2(O_PATH) + fstat + close.
func BenchmarkStat(b *testing.B) {
	runOp(b, depths, func(e *env, sys string, d depth) *step { return statStep(e, sys, d, true) })
}

// Lstat: do not follow a final link. Floor: openat2(O_PATH|O_NOFOLLOW) +
// fstat + close.
func BenchmarkLstat(b *testing.B) {
	runOp(b, depths, func(e *env, sys string, d depth) *step { return statStep(e, sys, d, false) })
}

func statStep(e *env, sys string, d depth, follow bool) *step {
	name := d.file
	ignore := func(_ os.FileInfo, err error) error { return err }
	switch sys {
	case "os":
		p := filepath.Join(e.dir, name)
		if follow {
			return do(func() error { return ignore(os.Stat(p)) })
		}
		return do(func() error { return ignore(os.Lstat(p)) })
	case "floor":
		flags := unix.O_PATH
		if !follow {
			flags |= unix.O_NOFOLLOW
		}
		st := new(unix.Stat_t) // once: the floor allocates nothing
		return do(func() error {
			fd, err := openat2(e.dirfd, name, flags, 0)
			if err != nil {
				return err
			}
			err = unix.Fstat(fd, st)
			unix.Close(fd)
			return err
		})
	case "os.Root":
		if follow {
			return do(func() error { return ignore(e.osRoot.Stat(name)) })
		}
		return do(func() error { return ignore(e.osRoot.Lstat(name)) })
	case "securejoin":
		stat := os.Stat
		if !follow {
			stat = os.Lstat
		}
		return do(func() error {
			p, err := securejoin.SecureJoin(e.dir, name)
			if err != nil {
				return err
			}
			return ignore(stat(p))
		})
	case "pathrs-lite":
		if follow {
			return do(func() error {
				h, err := pathrs.OpenatInRoot(e.dirFile, name)
				if err != nil {
					return err
				}
				defer h.Close()
				return ignore(h.Stat())
			})
		}
		// OpenatInRoot follows a final link: Lstat is the parent's
		// handle and fstatat(AT_SYMLINK_NOFOLLOW) of the last name.
		return do(func() error {
			h, err := pathrs.OpenatInRoot(e.dirFile, or(d.parent, "."))
			if err != nil {
				return err
			}
			defer h.Close()
			var st unix.Stat_t
			return unix.Fstatat(int(h.Fd()), path.Base(name), &st, unix.AT_SYMLINK_NOFOLLOW)
		})
	}
	r := e.roots[sys]
	if follow {
		return do(func() error { return ignore(r.Stat(name)) })
	}
	return do(func() error { return ignore(r.Lstat(name)) })
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// ReadDir: the sorted entries of a directory of eight files. Floor:
// openat2(O_DIRECTORY) + os.NewFile + ReadDir + sort + Close (entries
// typed from getdents, not stat-ed, as os.ReadDir does).
func BenchmarkReadDir(b *testing.B) {
	runOp(b, depths, func(e *env, sys string, d depth) *step {
		name := d.dir
		ignore := func(_ []os.DirEntry, err error) error { return err }
		switch sys {
		case "os":
			p := filepath.Join(e.dir, name)
			return do(func() error { return ignore(os.ReadDir(p)) })
		case "floor":
			return do(func() error {
				fd, err := openat2(e.dirfd, name, unix.O_RDONLY|unix.O_DIRECTORY, 0)
				if err != nil {
					return err
				}
				return readDirFile(os.NewFile(uintptr(fd), name))
			})
		case "os.Root":
			// os.Root.FS refuses names with "..": open, then read.
			return do(func() error {
				f, err := e.osRoot.Open(name)
				if err != nil {
					return err
				}
				return readDirFile(f)
			})
		case "securejoin":
			return do(func() error {
				p, err := securejoin.SecureJoin(e.dir, name)
				if err != nil {
					return err
				}
				return ignore(os.ReadDir(p))
			})
		case "pathrs-lite":
			return do(func() error {
				h, err := pathrs.OpenatInRoot(e.dirFile, name)
				if err != nil {
					return err
				}
				defer h.Close()
				f, err := pathrs.Reopen(h, unix.O_RDONLY|unix.O_DIRECTORY)
				if err != nil {
					return err
				}
				return readDirFile(f)
			})
		}
		r := e.roots[sys]
		return do(func() error { return ignore(r.ReadDir(name)) })
	})
}

// Create: OpenFile(O_CREATE|O_EXCL) of a new file, Close, Remove. Floor:
// openat2(O_CREAT|O_EXCL) + os.NewFile + Close, then openat2 of the
// parent (none at depth 1) + unlinkat + close.
func BenchmarkCreate(b *testing.B) {
	const flags = unix.O_WRONLY | unix.O_CREAT | unix.O_EXCL
	runOp(b, depths, func(e *env, sys string, d depth) *step {
		name := join(d.parent, "new")
		switch sys {
		case "os":
			p := filepath.Join(e.dir, name)
			return do(func() error {
				if err := closeBoth(os.OpenFile(p, flags, 0o644)); err != nil {
					return err
				}
				return os.Remove(p)
			})
		case "floor":
			return do(func() error {
				fd, err := openat2(e.dirfd, name, flags, 0o644)
				if err != nil {
					return err
				}
				if err := os.NewFile(uintptr(fd), name).Close(); err != nil {
					return err
				}
				pfd, done, err := floorDir(e.dirfd, d.parent)
				if err != nil {
					return err
				}
				defer done()
				return unix.Unlinkat(pfd, "new", 0)
			})
		case "os.Root":
			return do(func() error {
				if err := closeBoth(e.osRoot.OpenFile(name, flags, 0o644)); err != nil {
					return err
				}
				return e.osRoot.Remove(name)
			})
		case "securejoin":
			return do(func() error {
				p, err := securejoin.SecureJoin(e.dir, name)
				if err != nil {
					return err
				}
				if err := closeBoth(os.OpenFile(p, flags, 0o644)); err != nil {
					return err
				}
				if p, err = securejoin.SecureJoin(e.dir, name); err != nil {
					return err
				}
				return os.Remove(p)
			})
		case "pathrs-lite":
			return nil // no create or remove
		}
		r := e.roots[sys]
		return do(func() error {
			if err := closeBoth(r.OpenFile(name, flags, 0o644)); err != nil {
				return err
			}
			return r.Remove(name)
		})
	})
}

// MkdirAll: four new directories below the depth's directory; they are
// removed with the timer stopped. Floor: openat2 of the existing parent,
// then mkdirat + openat(O_PATH|O_NOFOLLOW) of each new one on the held fd.
func BenchmarkMkdirAll(b *testing.B) {
	comps := []string{"m1", "m2", "m3", "m4"}
	runOp(b, depths, func(e *env, sys string, d depth) *step {
		name := join(d.parent, strings.Join(comps, "/"))
		phys := filepath.Join(e.dir, physical(d.parent))
		after := func() error {
			for i := len(comps); i > 0; i-- {
				if err := os.Remove(filepath.Join(phys, filepath.Join(comps[:i]...))); err != nil {
					return err
				}
			}
			return nil
		}
		var fn func() error
		switch sys {
		case "os":
			p := filepath.Join(e.dir, name)
			fn = func() error { return os.MkdirAll(p, 0o755) }
		case "floor":
			fn = func() error {
				fd, done, err := floorDir(e.dirfd, d.parent)
				if err != nil {
					return err
				}
				defer done()
				for i, c := range comps {
					if err := unix.Mkdirat(fd, c, 0o755); err != nil {
						return err
					}
					if i == len(comps)-1 {
						break
					}
					nfd, err := unix.Openat(fd, c, unix.O_PATH|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
					if err != nil {
						return err
					}
					if i > 0 {
						unix.Close(fd)
					}
					fd = nfd
				}
				if len(comps) > 1 {
					unix.Close(fd)
				}
				return nil
			}
		case "os.Root":
			fn = func() error { return e.osRoot.MkdirAll(name, 0o755) }
		case "securejoin":
			fn = func() error {
				p, err := securejoin.SecureJoin(e.dir, name)
				if err != nil {
					return err
				}
				return os.MkdirAll(p, 0o755)
			}
		case "pathrs-lite":
			fn = func() error { return closeBoth(pathrs.MkdirAllHandle(e.dirFile, name, 0o755)) }
		default:
			r := e.roots[sys]
			fn = func() error { return r.MkdirAll(name, 0o755) }
		}
		return &step{do: fn, after: after}
	})
}

// Rename: r0 to r1 and back, one rename per iteration, in the depth's
// directory. Floor: openat2 of the parent once for both names (none at
// depth 1) + renameat + close.
func BenchmarkRename(b *testing.B) {
	// The file of a directory is at names[*at[dir]], whichever system
	// moved it last: the systems share it, one after another, and the
	// links row shares depth 4's directory.
	at := map[string]*int{}
	runOp(b, depths, func(e *env, sys string, d depth) *step {
		names := [2]string{join(d.parent, "r0"), join(d.parent, "r1")}
		dir := physical(d.parent)
		if at[dir] == nil {
			at[dir] = new(int)
		}
		i := at[dir]
		// flip renames names[*i] to names[1-*i] with rename, then flips
		// *i.
		flip := func(rename func(from, to string) error) *step {
			return do(func() error {
				err := rename(names[*i], names[1-*i])
				*i = 1 - *i
				return err
			})
		}
		switch sys {
		case "os":
			return flip(func(from, to string) error {
				return os.Rename(filepath.Join(e.dir, from), filepath.Join(e.dir, to))
			})
		case "floor":
			return flip(func(from, to string) error {
				fd, done, err := floorDir(e.dirfd, d.parent)
				if err != nil {
					return err
				}
				defer done()
				return unix.Renameat(fd, path.Base(from), fd, path.Base(to))
			})
		case "os.Root":
			return flip(e.osRoot.Rename)
		case "securejoin":
			return flip(func(from, to string) error {
				pf, err := securejoin.SecureJoin(e.dir, from)
				if err != nil {
					return err
				}
				pt, err := securejoin.SecureJoin(e.dir, to)
				if err != nil {
					return err
				}
				return os.Rename(pf, pt)
			})
		case "pathrs-lite":
			return nil // no rename
		}
		return flip(e.roots[sys].Rename)
	})
}

// Chmod: 0644 and 0600 in turn. Floor: openat2(O_PATH) +
// fchmodat2(AT_EMPTY_PATH) + close.
func BenchmarkChmod(b *testing.B) {
	runOp(b, depths, func(e *env, sys string, d depth) *step {
		name := d.file
		modes := [2]os.FileMode{0o600, 0o644}
		i := 0
		flip := func(chmod func(name string, mode os.FileMode) error) *step {
			return do(func() error {
				i = 1 - i
				return chmod(name, modes[i])
			})
		}
		switch sys {
		case "os":
			return flip(func(name string, mode os.FileMode) error { return os.Chmod(filepath.Join(e.dir, name), mode) })
		case "floor":
			return flip(func(name string, mode os.FileMode) error {
				fd, err := openat2(e.dirfd, name, unix.O_PATH, 0)
				if err != nil {
					return err
				}
				defer unix.Close(fd)
				return fchmodat2(fd, uint32(mode))
			})
		case "os.Root":
			return flip(e.osRoot.Chmod)
		case "securejoin":
			return flip(func(name string, mode os.FileMode) error {
				p, err := securejoin.SecureJoin(e.dir, name)
				if err != nil {
					return err
				}
				return os.Chmod(p, mode)
			})
		case "pathrs-lite":
			// An O_PATH handle cannot be fchmod-ed: reopen it.
			return flip(func(name string, mode os.FileMode) error {
				h, err := pathrs.OpenatInRoot(e.dirFile, name)
				if err != nil {
					return err
				}
				defer h.Close()
				f, err := pathrs.Reopen(h, unix.O_RDONLY)
				if err != nil {
					return err
				}
				defer f.Close()
				return f.Chmod(mode)
			})
		}
		return flip(e.roots[sys].Chmod)
	})
}

// ReadFile: the whole of a 4 KiB file. Floor: openat2 + fstat + read to
// EOF into one buffer + close.
func BenchmarkReadFile(b *testing.B) {
	runOp(b, depths, func(e *env, sys string, d depth) *step {
		name := d.file
		check := func(data []byte, err error) error {
			if err == nil && len(data) != len(fileData) {
				return errors.New("short read")
			}
			return err
		}
		switch sys {
		case "os":
			p := filepath.Join(e.dir, name)
			return do(func() error { return check(os.ReadFile(p)) })
		case "floor":
			st := new(unix.Stat_t)
			return do(func() error {
				fd, err := openat2(e.dirfd, name, unix.O_RDONLY, 0)
				if err != nil {
					return err
				}
				defer unix.Close(fd)
				if err := unix.Fstat(fd, st); err != nil {
					return err
				}
				buf := make([]byte, st.Size+1)
				n := 0
				for {
					m, err := unix.Read(fd, buf[n:])
					if err != nil {
						return err
					}
					if m == 0 {
						return check(buf[:n], nil)
					}
					n += m
				}
			})
		case "os.Root":
			return do(func() error { return check(e.osRoot.ReadFile(name)) })
		case "securejoin":
			return do(func() error {
				p, err := securejoin.SecureJoin(e.dir, name)
				if err != nil {
					return err
				}
				return check(os.ReadFile(p))
			})
		case "pathrs-lite":
			return do(func() error {
				h, err := pathrs.OpenatInRoot(e.dirFile, name)
				if err != nil {
					return err
				}
				defer h.Close()
				f, err := pathrs.Reopen(h, unix.O_RDONLY)
				if err != nil {
					return err
				}
				defer f.Close()
				return check(readAll(f))
			})
		}
		r := e.roots[sys]
		return do(func() error { return check(r.ReadFile(name)) })
	})
}

// Check: securepath.Check of a directory four levels below the tree
// (every ancestor from / is judged). Floor: the same walk from / on held
// fds, openat(O_PATH|O_NOFOLLOW) + fstat per component, judging nothing.
// "os" is os.Lstat of every ancestor by path.
func BenchmarkCheck(b *testing.B) {
	dir := newTree(b)
	target := filepath.Join(dir, "a/a/a/a")
	comps := strings.Split(strings.TrimPrefix(target, "/"), "/")
	st := new(unix.Stat_t)
	steps := map[string]*step{
		"os": do(func() error {
			var err error
			for p := target; err == nil && p != "/"; p = filepath.Dir(p) {
				_, err = os.Lstat(p)
			}
			return err
		}),
		"floor": do(func() error {
			fd, err := unix.Open("/", unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
			if err != nil {
				return err
			}
			for _, c := range comps {
				nfd, err := unix.Openat(fd, c, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
				unix.Close(fd)
				if err != nil {
					return err
				}
				fd = nfd
				if err := unix.Fstat(fd, st); err != nil {
					unix.Close(fd)
					return err
				}
			}
			return unix.Close(fd)
		}),
		"securepath": do(func() error {
			_, err := securepath.Check(target, nil)
			return err
		}),
	}
	for _, sys := range []string{"os", "floor", "securepath"} {
		b.Run("depth=4/sys="+sys, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := steps[sys].do(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// WriteFile: a 4 KiB secret with mode 0600, replacing the previous one.
// "os" is os.WriteFile + os.Chmod, durable nowhere; the floor is the same
// work made durable, unsafely, by path: open(O_CREAT|O_TRUNC) + fchmod +
// write + fsync + close, then fsync of the directory. securepath.WriteFile
// adds a temporary file, its rename over the name and the checks.
func BenchmarkWriteFile(b *testing.B) {
	e := newEnv(b)
	data := []byte(fileData)
	steps := map[string]*step{
		"os": do(func() error {
			p := filepath.Join(e.dir, "secret-os")
			if err := os.WriteFile(p, data, 0o600); err != nil {
				return err
			}
			return os.Chmod(p, 0o600)
		}),
		"floor": do(func() error {
			f, err := os.OpenFile(filepath.Join(e.dir, "secret-floor"), os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
			if err != nil {
				return err
			}
			if err := f.Chmod(0o600); err != nil {
				f.Close()
				return err
			}
			if _, err := f.Write(data); err != nil {
				f.Close()
				return err
			}
			if err := f.Sync(); err != nil {
				f.Close()
				return err
			}
			if err := f.Close(); err != nil {
				return err
			}
			d, err := os.Open(e.dir)
			if err != nil {
				return err
			}
			defer d.Close()
			return d.Sync()
		}),
	}
	for _, c := range confineSystems {
		r := e.roots[c.name]
		steps[c.name] = do(func() error { return securepath.WriteFile(r, "secret-"+c.name, data, 0o600, securepath.Replace) })
	}
	for _, sys := range systems {
		s := steps[sys]
		if s == nil {
			continue
		}
		b.Run("depth=1/sys="+sys, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := s.do(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// RenameStorm: Open of the depth's file while another goroutine renames
// an entry to and fro in a directory outside the tree. openat2 refuses a
// ".." lookup with EAGAIN when any rename in the system may have raced
// with it (the kernel's global rename_lock), so the "links" row is the one
// affected. It reports eagain/op, the share of lookups that failed with
// EAGAIN in the end, and renames/op, the storm's strength. The floor here
// is a single openat2 with no retry, to show how often the kernel says
// EAGAIN; every other system is used as a caller would use it.
func BenchmarkRenameStorm(b *testing.B) {
	e := newEnv(b)
	storm := b.TempDir()
	// The storm's file is at names[at]; it survives sub-benchmarks.
	names := [2]string{filepath.Join(storm, "x"), filepath.Join(storm, "y")}
	at := 0
	if err := os.WriteFile(names[at], nil, 0o644); err != nil {
		b.Fatal(err)
	}
	for _, d := range []depth{depths[2], depths[3]} {
		for _, sys := range systems {
			var s *step
			if sys == "floor" {
				how := unix.OpenHow{Flags: unix.O_RDONLY | unix.O_CLOEXEC, Resolve: unix.RESOLVE_BENEATH}
				s = do(func() error {
					fd, err := unix.Openat2(e.dirfd, d.file, &how)
					if err != nil {
						return err
					}
					return unix.Close(fd)
				})
			} else {
				s = openStep(e, sys, d.file, unix.O_RDONLY)
			}
			b.Run("depth="+d.label+"/sys="+sys, func(b *testing.B) {
				b.ReportAllocs()
				stop := make(chan struct{})
				done := make(chan error)
				renames := 0
				go func() {
					for {
						select {
						case <-stop:
							done <- nil
							return
						default:
						}
						if err := os.Rename(names[at], names[1-at]); err != nil {
							done <- err
							return
						}
						at = 1 - at
						renames++
					}
				}()
				ops, eagain := 0, 0
				var err error
				for b.Loop() {
					ops++
					if err = s.do(); errors.Is(err, unix.EAGAIN) {
						eagain++
					} else if err != nil {
						break
					}
				}
				close(stop)
				if serr := <-done; serr != nil {
					b.Fatal(serr)
				}
				if err != nil && !errors.Is(err, unix.EAGAIN) {
					b.Fatal(err)
				}
				b.ReportMetric(float64(eagain)/float64(ops), "eagain/op")
				b.ReportMetric(float64(renames)/float64(ops), "renames/op")
			})
		}
	}
}
