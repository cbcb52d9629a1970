//go:build linux

package fuzz

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/pathguard/pathguard/confine"
	"github.com/pathguard/pathguard/internal/testfs"
)

// opsTree is the tree every FuzzOps iteration starts from: links inward,
// outward, absolute (outward and inward), dangling (inside and outside)
// and looping, beside a canary tree "outside". absMark stands for the
// tree's base directory.
var opsTree = []string{
	"root/f=F", "root/d/g=G", "root/d/e/h=H", "root/a/o => ../../outside/d", "root/mnt/m=M", "root/mnt/d/",
	"root/mnt/up => ../f", "root/mnt/out => ../../outside/f",
	"root/in => d/g", "root/dd => d", "root/chain => in", "root/d/back => ../f",
	"root/out => ../outside/f", "root/outd => ../outside", "root/esc => d/../../outside",
	"root/abs => " + absMark + "outside/f", "root/absd => " + absMark + "outside",
	"root/absin => " + absIn, "root/dang => nowhere", "root/dangout => ../outside/new",
	"root/dangabs => " + absMark + "outside/new", "root/loop => loop", "root/self => .",
	"root/l1 => l2", "root/l2 => l1",
	"outside/f=SECRET", "outside/d/g=SECRET-G", "outside/e/",
}

// absIn is the target of opsTree's absin: "/d/g", inside the root under
// InRoot, where "d" does not exist at "/" on this system (a file the
// target named directly there could be created by a broken build).
var absIn = func() string {
	for _, c := range []string{"d", "dd"} {
		if _, err := os.Lstat("/" + c); errors.Is(err, fs.ErrNotExist) {
			return "/" + c + "/g"
		}
	}
	return "/pathguard-fuzz-none/g"
}()

// opsNames are the components names are made of; opsTargets those of
// symlink targets; opsSwap the entries the swapper exchanges.
var (
	opsNames = []string{
		"a", "d", "e", "f", "g", "h", "in", "dd", "chain", "out", "outd", "esc", "abs", "absd",
		"absin", "dang", "dangout", "dangabs", "loop", "self", "mnt", "outside", "..", ".", "x", "y",
		"m", "back", "l1",
	}
	opsTargets = []string{"a", "d", "f", "g", "x", "y", "in", "out", "dang", "loop", "self", "outside", "..", "..", ".", "mnt", "m", "e"}
	opsSwap    = []string{"d", "dd", "out", "outd", "in", "dang", "dangout", "f", "abs", "absd", "a", "x", "self", "esc", "mnt", "y"}
)

// absPool holds first components of absolute symlink targets ("/d/...")
// that do not exist at "/" on this system.
var absPool = func() []string {
	var out []string
	for _, c := range []string{"d", "a", "f", "x", "dd", "in"} {
		if _, err := os.Lstat("/" + c); errors.Is(err, fs.ErrNotExist) {
			out = append(out, c)
		}
	}
	if out == nil {
		out = []string{"pathguard-fuzz-none"}
	}
	return out
}()

// procNames are the components of names given to a Root on /proc/<pid>.
var procNames = []string{
	"cwd", "root", "exe", "fd", "fdinfo", "task", strconv.Itoa(os.Getpid()), "0", "1", "2", "3",
	"ns", "mnt", "net", "status", "..", ".", "attr", "current", "map_files", "self", "stat",
}

// Bits of a decoded configuration: FuzzBackends reads them from its
// input's first byte as they are; FuzzOps reads the low five from its
// first byte and the rest from that byte's scenario (opsScenario).
const (
	cfgWalk       = 1 << iota // the walk backend, else openat2
	cfgInRoot                 // InRoot, else Beneath
	cfgNoSymlinks             // NoSymlinks
	cfgNoXDev                 // NoXDev
	cfgRefuse                 // openat2 refused (ENOSYS or EPERM), backend Auto
	cfgSwap                   // a concurrent swapper (FuzzOps)
	cfgProc                   // the root is /proc/<pid>, read-only operations
	cfgMount                  // a tmpfs on root/mnt and one on root/a (FuzzOps; FuzzBackends: root/mnt only; root only)
)

// opsEnv is what FuzzOps keeps across iterations.
type opsEnv struct {
	ns           *nsThread
	base, root   string // the tree, its root
	tbase, troot string // the twin, for os.Root
	canary       map[string]string
}

func newOpsEnv(tb testing.TB) *opsEnv {
	e := &opsEnv{ns: ns()}
	// The tree and its twin are named alike but for one byte, so that
	// their paths, and the absolute links in them, have the same length.
	dir := e.ns.memDir(tb)
	var err error
	e.ns.do(func() { err = e.build(dir+"/1", dir+"/2") })
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		e.ns.do(func() {
			clearDir(e.root)
			clearDir(e.troot)
		})
	})
	return e
}

// build makes the tree and its twin in dir and tdir, on the namespace
// thread, which alone sees them when they are on a tmpfs (memDir).
func (e *opsEnv) build(dir, tdir string) error {
	var err error
	// Trees live 32 levels below their temporary directory: even a
	// broken build following chains of ".." stays inside it.
	if e.base, err = nest(dir, 32); err != nil {
		return err
	}
	if e.tbase, err = nest(tdir, 32); err != nil {
		return err
	}
	e.root, e.troot = e.base+"/root", e.tbase+"/root"
	for _, b := range []string{e.base, e.tbase} {
		for _, ent := range opsTree {
			if strings.HasPrefix(ent, "outside/") {
				if err := testfs.MakeEntry(b, ent); err != nil {
					return err
				}
			}
		}
	}
	if err := errors.Join(reset(e.base), reset(e.tbase)); err != nil {
		return err
	}
	e.canary, err = e.outside()
	return err
}

// outside snapshots everything outside the root: the canary tree with
// its times, and the names beside the root and above it.
func (e *opsEnv) outside() (map[string]string, error) {
	m, err := snapshot(e.base+"/outside", true)
	if err != nil {
		return nil, err
	}
	for _, d := range []string{e.base, e.base + "/.."} {
		ents, err := os.ReadDir(d)
		if err != nil {
			return nil, err
		}
		var names []string
		for _, ent := range ents {
			names = append(names, ent.Name())
		}
		m["listing of "+d] = strings.Join(names, ",")
	}
	return m, nil
}

// reset rebuilds the root of the tree at base.
func reset(base string) error {
	root := base + "/root"
	if err := os.Mkdir(root, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	os.Chmod(root, 0o755)
	if err := clearDir(root); err != nil {
		return err
	}
	for _, ent := range opsTree {
		if rest, ok := strings.CutPrefix(ent, "root/"); ok {
			if name, tgt, ok := strings.Cut(rest, " => "); ok {
				ent = "root/" + name + " => " + target(tgt, base)
			}
			if err := testfs.MakeEntry(base, ent); err != nil {
				return err
			}
		}
	}
	// a holds o, a link to the canary's directory d, and is made
	// append-only where the file system and the user can (see
	// appendOnlyLink): RemoveAll of a, the name most inputs decode to,
	// must then not open o as a directory and empty it.
	appendOnly(root+"/a", true)
	return nil
}

// opsSeeds are inputs made from the resolution and differential tables'
// cases, one operation each, in every configuration of the first byte
// that matters for them.
func opsSeeds() [][]byte {
	idx := func(pool []string, s string) byte { return byte(slices.Index(pool, s)) }
	// One op: code, name (count-1 | flags, comps...), extra bytes.
	name := func(flags byte, comps ...string) []byte {
		b := []byte{byte(len(comps)-1) | flags}
		for _, c := range comps {
			b = append(b, idx(opsNames, c))
		}
		return b
	}
	seq := func(cfg byte, ops ...[]byte) []byte {
		b := []byte{opsFirstByte(cfg), byte(len(ops) - 1)}
		for _, o := range ops {
			b = append(b, o...)
		}
		return b
	}
	one := func(code int, n []byte, extra ...byte) []byte {
		return append(append([]byte{byte(code)}, n...), extra...)
	}
	var seeds [][]byte
	for _, cfg := range []byte{0, cfgWalk, cfgInRoot, cfgInRoot | cfgWalk, cfgNoSymlinks | cfgWalk, cfgRefuse, cfgMount | cfgNoXDev | cfgWalk, cfgMount | cfgNoXDev} {
		seeds = append(seeds,
			seq(cfg, one(opOpen, name(0, "..", "outside", "f"))),
			seq(cfg, one(opOpen, name(0, "out"))),
			seq(cfg, one(opOpen, name(0x80, "outd"))),
			seq(cfg, one(opReadFile, name(0, "abs"))),
			seq(cfg, one(opOpen, name(0, "absin"))),
			seq(cfg, one(opOpen, name(0, "chain"))),
			seq(cfg, one(opOpen, name(0, "dd", "e", "h"))),
			seq(cfg, one(opOpen, name(0, "loop"))),
			seq(cfg, one(opOpen, name(0, "mnt", "m"))),
			seq(cfg, one(opChmod, name(0, "mnt"), 2)),
			seq(cfg, one(opOpenFile, name(0, "dangout"), 3, 0)),
			seq(cfg, one(opWriteFile, name(0, "dangabs"), 0)),
			seq(cfg, one(opOpenFile, name(0, "esc", "x"), 1, 0)),
			seq(cfg, one(opRemoveAll, name(0, "outd"))),
			seq(cfg, one(opRemoveAll, name(0x80, "outd"))),
			seq(cfg, one(opRemove, name(0x80, "dd"))),
			seq(cfg, one(opChmod, name(0, "out"), 2)),
			seq(cfg, one(opChtimes, name(0, "abs"), 9)),
			seq(cfg, one(opMkdirAll, name(0, "outd", "x"), 0)),
			seq(cfg, one(opMkdir, name(0, "dang"), 0)),
			seq(cfg, one(opLink, name(0, "out"), name(0, "x")...)),
			seq(cfg, one(opRename, name(0, "..", "outside", "f"), name(0, "x")...)),
			seq(cfg, one(opRename, name(0, "d"), name(0, "..", "x")...)),
			seq(cfg, one(opReadDir, name(0, "outd"))),
			seq(cfg, one(opOpenRoot, name(0, "esc"))),
			seq(cfg, one(opResolve, name(0, "d", "back"))),
			seq(cfg,
				one(opSymlink, name(0, "x"), 1, idx(opsTargets, ".."), idx(opsTargets, "outside")),
				one(opWriteFile, name(0, "x", "f"), 0, 0)),
			seq(cfg,
				one(opRename, name(0, "d"), name(0, "x")...),
				one(opRename, name(0, "outd"), name(0, "d")...),
				one(opOpen, name(0, "d", "f"))),
		)
	}
	for _, cfg := range []byte{cfgProc, cfgProc | cfgWalk, cfgProc | cfgInRoot | cfgWalk} {
		pidx := func(s string) byte { return byte(slices.Index(procNames, s)) }
		for _, n := range [][]string{{"cwd"}, {"root"}, {"exe"}, {"fd", "0"}, {"task", strconv.Itoa(os.Getpid()), "cwd"}, {"ns", "mnt"}, {"status"}, {"..", "self"}} {
			b := []byte{opsFirstByte(cfg), 0, byte(slices.Index(readOnlyOps, opOpen)), byte(len(n) - 1)}
			for _, c := range n {
				b = append(b, pidx(c))
			}
			seeds = append(seeds, b)
		}
	}
	// A swapper exchanging a directory with an outward link while the
	// same names are opened.
	seeds = append(seeds, append([]byte{opsFirstByte(cfgSwap | cfgWalk), 3,
		opOpen, 1, idx(opsNames, "d"), idx(opsNames, "g"),
		opWriteFile, 1, idx(opsNames, "d"), idx(opsNames, "x"), 0, 0,
		opOpenFile, 1, idx(opsNames, "d"), idx(opsNames, "x"), 3, 0, 0,
		opRemoveAll, 1, idx(opsNames, "d"), idx(opsNames, "e")},
		64, 0, byte(slices.Index(opsSwap, "d")), 0, byte(slices.Index(opsSwap, "outd"))))
	// RemoveAll of a directory the swapper keeps exchanging with an
	// outward link: between the unlink that says EISDIR and the open of
	// the directory, the name may be the link.
	rm := []byte{opsFirstByte(cfgSwap), 5}
	for range 3 {
		rm = append(rm, opMkdir, 0, idx(opsNames, "x"), 1, opRemoveAll, 0, idx(opsNames, "x"))
	}
	seeds = append(seeds, append(rm, 255, 0, byte(slices.Index(opsSwap, "x")), 0, byte(slices.Index(opsSwap, "outd"))))
	// Creates of a missing name that the swapper makes an outward link
	// for a moment, over and over: under NoXDev the walk looks the name
	// up, finds nothing, then creates it, and the link may come in
	// between.
	cr := []byte{opsFirstByte(cfgSwap | cfgNoXDev | cfgWalk), 5}
	for range 6 {
		cr = append(cr, opOpenFile, 0, idx(opsNames, "x"), 2, 0, 0)
	}
	seeds = append(seeds, append(cr, 255, 0, byte(slices.Index(opsSwap, "out")), 1, byte(slices.Index(opsSwap, "x"))))
	return seeds
}

// FuzzOps decodes its input into a configuration and a short sequence of
// Root operations (OpenFile, Mkdir, MkdirAll, Symlink with any target,
// Link, Rename, Remove, RemoveAll, Open, Chmod, Chtimes, WriteFile,
// ReadFile, ReadDir, OpenRoot, Stat, Lstat, Readlink, Resolve) on opsTree,
// and asserts after every operation and at the end:
//
//   - the canary tree outside the root is unchanged, byte for byte, mode
//     for mode and time for time, and nothing appears beside the root;
//     nothing read holds its content;
//   - every file returned lies inside the root: its device and inode are
//     reached by walking the root (for a Root on /proc/<pid>: it is on
//     procfs, so no magic link was followed);
//   - under NoXDev, every file returned is on the root's mount and the
//     tmpfs mounted inside the root is unchanged; under NoSymlinks, no
//     operation whose name crosses a symlink succeeds;
//   - errors are *fs.PathError or *os.LinkError;
//   - no descriptor leaks (/proc/self/fd is counted before and after);
//   - in Beneath mode without flags or swapper, every operation gives
//     the same class of result (success or errno) and the same data as
//     os.Root on a twin tree, and the trees end up the same, except for
//     the differences docs/fuzzing.md names.
//
// The first byte chooses the backend, the mode, NoSymlinks, NoXDev, an
// openat2 refused as by seccomp, a concurrent swapper (exchanging
// entries of the root as the input says, while the operations run), a
// Root on /proc/<pid> and a tmpfs mounted in the tree.
func FuzzOps(f *testing.F) {
	for _, s := range seeds(opsSeeds()) {
		f.Add(s)
	}
	e := newOpsEnv(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		var err error
		e.ns.do(func() { err = e.run(data) })
		if err != nil {
			t.Fatal(err)
		}
	})
}

// opsConfig is a decoded FuzzOps input.
type opsConfig struct {
	cfg   byte
	ops   []op
	swaps []swap
	turns int
}

type swap struct {
	a, b     string
	exchange bool
}

// The top three bits of a FuzzOps input's first byte are its scenario:
// 0 to 3 the plain tree, 4 a concurrent swapper, 5 a Root on /proc/<pid>,
// 6 the tmpfs mounts, 7 the swapper and the mounts. Half the inputs run
// on the plain tree, where every property is checked (containment, the
// escapes, os.Root's twin); the swapper and /proc, whose coverage varies
// from run to run, do not crowd the corpus.
var opsScenario = [8]byte{0, 0, 0, 0, cfgSwap, cfgProc, cfgMount, cfgSwap | cfgMount}

// opsFirstByte is the first byte of a FuzzOps input whose decoded
// configuration is cfg (before NoXDev implies the mounts).
func opsFirstByte(cfg byte) byte {
	const low = cfgWalk | cfgInRoot | cfgNoSymlinks | cfgNoXDev | cfgRefuse
	for sc := range opsScenario {
		if opsScenario[sc] == cfg&^low {
			return cfg&low | byte(sc)<<5
		}
	}
	panic(fmt.Sprintf("no FuzzOps scenario for configuration %#02x", cfg))
}

func decodeOps(data []byte, mountOK bool) opsConfig {
	in := &input{b: data}
	first := in.byte()
	c := opsConfig{cfg: first&0x1f | opsScenario[first>>5]}
	if c.cfg&cfgNoXDev != 0 {
		// NoXDev is always tried on a tree holding a mount (where one
		// can be made): without one there is nothing to cross.
		c.cfg |= cfgMount
	}
	if !mountOK {
		c.cfg &^= cfgMount
	}
	if c.cfg&cfgProc != 0 {
		c.cfg &^= cfgMount | cfgSwap
	}
	n := 1 + int(in.byte())%6
	allowed, pool := []int(nil), opsNames
	if c.cfg&cfgProc != 0 {
		allowed, pool = readOnlyOps, procNames
	} else {
		for i := 0; i < numOps; i++ {
			allowed = append(allowed, i)
		}
	}
	for i := 0; i < n; i++ {
		c.ops = append(c.ops, decodeOp(in, allowed, pool, opsTargets, absPool))
	}
	if c.cfg&cfgSwap != 0 {
		c.turns = (1 + int(in.byte())) * 16
		// The other name of a swap is one of opsSwap or, with bit 1 of
		// its mode byte, an entry of the root the operations name
		// themselves (the first component of a name): a race lands
		// where a lookup goes.
		var named []string
		for _, o := range c.ops {
			for _, n := range []string{o.name, o.arg} {
				if o.code == opSymlink && n == o.arg {
					continue // a target, not a name
				}
				first, _, _ := strings.Cut(strings.TrimLeft(n, "/"), "/")
				if first != "" && first != "." && first != ".." && !slices.Contains(named, first) {
					named = append(named, first)
				}
			}
		}
		for n := 1 + int(in.byte())%3; len(c.swaps) < n; {
			s := swap{a: in.pick(opsSwap)}
			mode := in.byte()
			s.exchange = mode%2 == 0
			if mode&2 != 0 && named != nil {
				s.b = in.pick(named)
			} else {
				s.b = in.pick(opsSwap)
			}
			c.swaps = append(c.swaps, s)
		}
		if c.cfg&cfgMount != 0 {
			// The swapper's thread is outside the mount namespace the
			// tmpfs is mounted in, where the kernel would let it move
			// a mount point (rename(2) asks the caller's namespace
			// whether the entry is one): it leaves them alone.
			c.swaps = slices.DeleteFunc(c.swaps, func(s swap) bool {
				return slices.Contains(opsMounts, s.a) || slices.Contains(opsMounts, s.b)
			})
		}
	}
	return c
}

// swapper exchanges entries of the root, or renames one to a new name
// and back (the new name flickers), from its own fd,
// concurrently with the operations: at most the number of turns the
// input says, and no more once wait is called.
type swapper struct {
	stop, done chan struct{}
	fd         int
}

// startSwapper starts the swapper and returns once its first turn is
// done, so that the operations run while it turns.
func startSwapper(root string, c opsConfig) (*swapper, error) {
	fd, err := unix.Open(root, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	s := &swapper{stop: make(chan struct{}), done: make(chan struct{}), fd: fd}
	started := make(chan struct{})
	go func() {
		defer close(s.done)
		for i := 0; i < c.turns; i++ {
			for _, sw := range c.swaps {
				if sw.exchange {
					unix.Renameat2(fd, sw.a, fd, sw.b, unix.RENAME_EXCHANGE)
				} else if unix.Renameat2(fd, sw.a, fd, sw.b, unix.RENAME_NOREPLACE) == nil {
					// b is a for a moment and gone again: a link
					// that appears between an operation's lookup of
					// a missing name and its create there.
					unix.Renameat2(fd, sw.b, fd, sw.a, unix.RENAME_NOREPLACE)
				}
			}
			if i == 0 {
				close(started)
			}
			select {
			case <-s.stop:
				return
			default:
			}
		}
	}()
	<-started
	return s, nil
}

// wait stops the swapper and waits for it.
func (s *swapper) wait() {
	if s == nil {
		return
	}
	if s.fd >= 0 {
		close(s.stop)
		<-s.done
		unix.Close(s.fd)
		s.fd = -1
	}
}

// run is one FuzzOps iteration, on the namespace thread.
func (e *opsEnv) run(data []byte) (err error) {
	c := decodeOps(data, e.ns.ok)
	proc, mount := c.cfg&cfgProc != 0, c.cfg&cfgMount != 0
	twin := c.cfg&(cfgInRoot|cfgNoSymlinks|cfgNoXDev|cfgSwap|cfgProc|cfgMount) == 0
	var log []string
	fail := func(format string, args ...any) error {
		return fmt.Errorf("config %#02x (%s): %s\nsteps:\n\t%s", c.cfg, cfgString(c.cfg), fmt.Sprintf(format, args...), strings.Join(log, "\n\t"))
	}

	if !proc {
		if err := reset(e.base); err != nil {
			return err
		}
	}
	if twin {
		if err := reset(e.tbase); err != nil {
			return err
		}
	}
	var mnt map[string]string
	if mount {
		for _, m := range opsMounts {
			if err := unix.Mount("tmpfs", e.root+"/"+m, "tmpfs", 0, "size=1m,mode=0755"); err != nil {
				return fmt.Errorf("mount: %v", err)
			}
			defer unix.Unmount(e.root+"/"+m, unix.MNT_DETACH)
		}
		for _, ent := range opsTree {
			if strings.HasPrefix(ent, "root/mnt/") {
				if err := testfs.MakeEntry(e.base, ent); err != nil {
					return err
				}
			}
		}
		for _, m := range opsMounts {
			if err := appendOnlyLink(e.root+"/"+m, "o", "../../outside/d"); err != nil {
				return err
			}
		}
		if mnt, err = snapshotMounts(e.root); err != nil {
			return err
		}
	}

	fds := countFDs()
	dir := e.root
	if proc {
		dir = "/proc/" + strconv.Itoa(os.Getpid())
	}
	opts := optsOf(c.cfg&cfgWalk != 0, c.cfg&cfgInRoot != 0, c.cfg&cfgNoSymlinks != 0, c.cfg&cfgNoXDev != 0, c.cfg&cfgRefuse != 0)
	if c.cfg&cfgRefuse != 0 {
		errno := syscall.ENOSYS
		if c.cfg&cfgWalk != 0 {
			errno = syscall.EPERM
		}
		defer refuseOpenat2(errno)()
	}
	r, err := confine.OpenRoot(dir, opts...)
	if err != nil {
		return fail("OpenRoot: %v", err)
	}
	rootClosed := false
	defer func() {
		if !rootClosed {
			r.Close()
		}
	}()
	var osr *os.Root
	if twin {
		if osr, err = os.OpenRoot(e.troot); err != nil {
			return err
		}
		defer func() {
			if osr != nil {
				osr.Close()
			}
		}()
	}
	rootMnt, rootDev := uint64(0), uint64(0)
	if c.cfg&cfgNoXDev != 0 {
		var st unix.Stat_t
		if err := unix.Stat(e.root, &st); err != nil {
			return err
		}
		rootDev = st.Dev
		rf, err := r.Open(".")
		if err != nil {
			return fail("Open(.): %v", err)
		}
		rootMnt, err = fdMountID(int(rf.Fd()))
		rf.Close()
		if err != nil {
			return err
		}
	}
	var sw *swapper
	if c.cfg&cfgSwap != 0 {
		if sw, err = startSwapper(e.root, c); err != nil {
			return err
		}
		defer sw.wait()
	}

	for _, o := range c.ops {
		crosses := c.cfg&cfgNoSymlinks != 0 && sw == nil && !proc &&
			(crossesLink(e.root, o, o.name, followsLast(o), c.cfg&cfgInRoot != 0) ||
				(o.code == opRename || o.code == opLink) && crossesLink(e.root, o, o.arg, false, c.cfg&cfgInRoot != 0))
		escapes := c.cfg&cfgInRoot == 0 && sw == nil && !proc &&
			(escapesBeneath(e.root, o, o.name, followsLast(o)) ||
				(o.code == opRename || o.code == opLink) && escapesBeneath(e.root, o, o.arg, false))
		reaches := mount && c.cfg&cfgNoXDev != 0 && sw == nil &&
			(reachesMount(e.root, o.name, c.cfg&cfgInRoot != 0, rootDev) ||
				(o.code == opRename || o.code == opLink) && reachesMount(e.root, o.arg, c.cfg&cfgInRoot != 0, rootDev))
		why := ""
		if twin {
			why = knownDifference(e.troot, o)
			if why == "skip" {
				log = append(log, o.String()+": not run (a known difference with os.Root)")
				continue
			}
		}
		got := applyRetry(r, o, e.base, proc)
		log = append(log, fmt.Sprintf("%s = %v", o, got.err))
		err := e.checkResult(r, o, &got, proc, sw, rootMnt)
		if err == nil && crosses && got.err == nil {
			err = errors.New("succeeded under NoSymlinks, but the name crosses a symlink")
		}
		if err == nil && escapes && got.err == nil {
			err = errors.New("succeeded in Beneath mode, but the name escapes the root")
		}
		if err == nil && escapes && c.cfg&(cfgNoSymlinks|cfgNoXDev) == 0 && escapeFirst(o) &&
			!errors.Is(got.err, confine.ErrEscape) {
			err = errors.New("the name escapes the root in Beneath mode, but the error is not ErrEscape")
		}
		if err == nil && reaches && got.err == nil {
			err = errors.New("succeeded under NoXDev, but the name reaches the mount")
		}
		if err == nil && twin {
			err = e.compareTwin(osr, o, &got, why)
			if errors.Is(err, errDiverged) {
				log = append(log, "(a named difference changed one tree only: the twin is no longer compared)")
				twin, err = false, nil
			}
		}
		got.close()
		if err != nil {
			return fail("%s: %v", o, err)
		}
	}
	sw.wait()
	r.Close()
	rootClosed = true
	if osr != nil {
		osr.Close()
		osr = nil
	}
	if n := countFDs(); n != fds {
		return fail("%d descriptors open before, %d after", fds, n)
	}
	after, err := e.outside()
	if err != nil {
		return err
	}
	if d := diffMaps(e.canary, after); d != nil {
		return fail("the canary outside the root changed:\n\t%s", strings.Join(d, "\n\t"))
	}
	if mount && c.cfg&cfgNoXDev != 0 {
		now, err := snapshotMounts(e.root)
		if err != nil {
			return err
		}
		if d := diffMaps(mnt, now); d != nil {
			return fail("under NoXDev, the mount inside the root changed:\n\t%s", strings.Join(d, "\n\t"))
		}
	}
	if twin {
		ours, err1 := snapshot(e.root, false)
		theirs, err2 := snapshot(e.troot, false)
		if err := errors.Join(err1, err2); err != nil {
			return err
		}
		if d := diffMaps(normBase(theirs, e.tbase), normBase(ours, e.base)); d != nil {
			return fail("the trees differ (os.Root -> confine):\n\t%s", strings.Join(d, "\n\t"))
		}
	}
	return nil
}

// escapeFirst reports whether o, when its name escapes in Beneath mode
// with no flag (escapesBeneath), must fail with ErrEscape and nothing
// else: one name, looked up to its end, no trailing slash (Remove and
// Rename of "link/" are ENOTDIR first; creating "x/" is EISDIR).
func escapeFirst(o op) bool {
	switch o.code {
	case opOpen, opStat, opLstat, opReadlink, opReadFile, opReadDir, opOpenRoot, opChmod, opChtimes, opResolve, opOpenFile, opWriteFile:
		return !strings.HasSuffix(o.name, "/")
	}
	return false
}

// opsMounts are the directories of opsTree a tmpfs is mounted on with
// cfgMount: mnt, and the empty a, which is also the name an input that
// runs out of bytes decodes to, so that most operations under NoXDev
// meet a mount.
var opsMounts = []string{"mnt", "a"}

// appendOnlyLink plants the symlink name => target in dir, then makes
// dir append-only (FS_APPEND_FL): nothing in it can be unlinked. The
// unlink of the link then fails with EPERM, as it does for anyone but
// root in a sticky directory, and RemoveAll must not go on to open the
// link as a directory to empty it: each of opsMounts (a tmpfs, under
// cfgMount) holds o, a link to the canary's directory d.
func appendOnlyLink(dir, name, target string) error {
	if err := os.Symlink(target, dir+"/"+name); err != nil {
		return err
	}
	return appendOnly(dir, true)
}

// appendOnly sets or clears dir's append-only flag (FS_APPEND_FL), which
// needs CAP_LINUX_IMMUTABLE and a file system that has it.
func appendOnly(dir string, on bool) error {
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	flags, err := unix.IoctlGetInt(fd, unix.FS_IOC_GETFLAGS)
	if err != nil {
		return err
	}
	// 0x20: FS_APPEND_FL from <linux/fs.h>, which x/sys does not name.
	if on {
		flags |= 0x20
	} else {
		flags &^= 0x20
	}
	return unix.IoctlSetPointerInt(fd, unix.FS_IOC_SETFLAGS, flags)
}

// snapshotMounts snapshots the mounts below root, times included.
func snapshotMounts(root string) (map[string]string, error) {
	all := map[string]string{}
	for _, m := range opsMounts {
		s, err := snapshot(root+"/"+m, true)
		if err != nil {
			return nil, err
		}
		for k, v := range s {
			all[m+": "+k] = v
		}
	}
	return all, nil
}

func normBase(m map[string]string, base string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		if k == "." {
			continue // the roots' own times and modes are compared elsewhere
		}
		out[k] = strings.ReplaceAll(v, base, "<base>")
	}
	return out
}

func cfgString(c byte) string {
	var s []string
	for i, n := range []string{"walk", "inroot", "nosymlinks", "noxdev", "refused-openat2", "swapper", "proc", "mount"} {
		if c&(1<<i) != 0 {
			s = append(s, n)
		}
	}
	if c&cfgWalk == 0 && c&cfgRefuse == 0 {
		s = append([]string{"openat2"}, s...)
	}
	return strings.Join(s, ",")
}

// checkResult checks one operation's result on the Root under test.
func (e *opsEnv) checkResult(r *confine.Root, o op, got *result, proc bool, sw *swapper, rootMnt uint64) error {
	if got.err != nil {
		var pe *fs.PathError
		var le *os.LinkError
		if !errors.As(got.err, &pe) && !errors.As(got.err, &le) {
			return fmt.Errorf("error %#v is neither a *fs.PathError nor an *os.LinkError", got.err)
		}
	}
	if strings.Contains(got.data, "SECRET") {
		return fmt.Errorf("read %q: the canary's content", got.data)
	}
	var in map[devIno]string
	for _, f := range got.files {
		fd := int(f.Fd())
		if proc {
			var sfs unix.Statfs_t
			if err := unix.Fstatfs(fd, &sfs); err != nil {
				return err
			}
			if sfs.Type != unix.PROC_SUPER_MAGIC {
				return fmt.Errorf("opened %s, which is not on procfs: a magic link was followed", f.Name())
			}
			continue
		}
		di, err := fdDevIno(fd)
		if err != nil {
			return err
		}
		if in == nil {
			if in, err = inodes(e.root); err != nil {
				return err
			}
		}
		if _, ok := in[di]; !ok && sw != nil {
			// The swapper may be between two renames: once it is done,
			// the file must be in the tree.
			sw.wait()
			if in, err = inodes(e.root); err != nil {
				return err
			}
		}
		if _, ok := in[di]; !ok {
			return fmt.Errorf("opened inode %d, which is not in the root", di.ino)
		}
		if rootMnt != 0 {
			id, err := fdMountID(fd)
			if err != nil {
				return err
			}
			if id != rootMnt {
				return fmt.Errorf("under NoXDev, opened a file on mount %d, not the root's %d", id, rootMnt)
			}
		}
	}
	return nil
}

// errDiverged says that o fell under a difference with os.Root that
// leaves the two trees different: the twin is no longer compared.
var errDiverged = errors.New("the twin diverged")

// knownDifference names the difference with os.Root that o falls under on
// the twin tree at troot (docs/fuzzing.md): "skip" for operations not
// run at all, "fail" for operations that must fail in both without the
// errno being compared, "dangling" and "dotdot" for differences after
// which the twin is no longer compared, "" for none.
func knownDifference(troot string, o op) string {
	isLinkSlash := func(name string) bool {
		if !strings.HasSuffix(name, "/") {
			return false
		}
		fi, err := os.Lstat(filepath.Join(troot, strings.TrimRight(name, "/")))
		return err == nil && fi.Mode().Type() == fs.ModeSymlink
	}
	switch o.code {
	case opOpenFile, opWriteFile:
		// O_CREATE of "x/": EISDIR here, ENOENT or ENOTDIR there.
		if strings.HasSuffix(o.name, "/") && (o.code == opWriteFile || o.flag&os.O_CREATE != 0) {
			return "fail"
		}
	case opRemoveAll:
		// A name ending in "." (trailing slashes dropped): os.Root says
		// EINVAL before any lookup; here the lookup of what leads to
		// it comes first, so "../." is an escape (the regression tests
		// of CVE-2025-22873 want that).
		n := strings.TrimRight(o.name, "/")
		if n == "." || strings.HasSuffix(n, "/.") {
			return "fail"
		}
		// A name ending in "..": os.Root removes what the name leads
		// to once the dots are dropped (d for "d/e/..", everything in
		// the root for "d/..", nothing for "missing/.."), with or
		// without an error; here it is refused (EINVAL) before
		// anything is removed (docs/comparison.md).
		if n == ".." || strings.HasSuffix(n, "/..") {
			return "dotdot"
		}
	case opMkdirAll:
		// Through a dangling link inside: os.Root makes the link's
		// target, pathguard says EEXIST as os.MkdirAll does
		// (docs/comparison.md).
		if crossesDangling(troot, o.name) {
			return "dangling"
		}
	case opRemove:
		// Remove of "link/": os.Root removes the link's target.
		if isLinkSlash(o.name) {
			return "skip"
		}
	case opRename:
		if isLinkSlash(o.name) || isLinkSlash(o.arg) {
			return "skip"
		}
		isDot := func(n string) bool {
			b := filepath.Base(n)
			return b == "." || b == ".."
		}
		if isDot(o.name) && isDot(o.arg) {
			return "fail"
		}
	}
	return ""
}

// crossesDangling reports whether name, looked up by name in the tree at
// troot, meets a symlink whose target, inside troot, does not exist.
func crossesDangling(troot, name string) bool {
	cur := troot
	for _, c := range strings.Split(name, "/") {
		switch c {
		case "", ".":
			continue
		case "..":
			if cur == troot {
				return false
			}
			cur = filepath.Dir(cur)
			continue
		}
		p := filepath.Join(cur, c)
		fi, err := os.Lstat(p)
		if err != nil {
			return false
		}
		if fi.Mode().Type() != fs.ModeSymlink {
			cur = p
			continue
		}
		real, err := filepath.EvalSymlinks(p)
		if errors.Is(err, fs.ErrNotExist) {
			tgt, err := os.Readlink(p)
			return err == nil && !filepath.IsAbs(tgt) && strings.HasPrefix(filepath.Join(cur, tgt), troot+"/")
		}
		if err != nil || real != troot && !strings.HasPrefix(real, troot+"/") {
			return false // broken, or leads out (the root itself is inside)
		}
		cur = real
	}
	return false
}

// compareTwin runs o on os.Root and compares with what the Root gave.
func (e *opsEnv) compareTwin(osr *os.Root, o op, got *result, why string) error {
	if o.code == opResolve {
		return nil // os.Root has no Resolve
	}
	want := applyRetry(osr, o, e.tbase, false)
	defer want.close()
	g, w := class(got.err), class(want.err)
	if why == "fail" && g != "ok" && w != "ok" {
		return nil
	}
	if w == syscall.ELOOP.Error() && g != w {
		return errDiverged // os.Root's limit of 8 links
	}
	if why == "dotdot" && g == syscall.EINVAL.Error() {
		return errDiverged // os.Root removed what it found there, or nothing
	}
	if why == "dangling" && g == syscall.EEXIST.Error() && w == "ok" {
		return errDiverged // os.Root made the dangling link's target
	}
	if g == syscall.EISDIR.Error() && w == syscall.ENOENT.Error() && (o.code == opWriteFile || o.code == opOpenFile && o.flag&os.O_CREATE != 0) {
		return nil // O_CREATE through a dangling link to "new/": the kernel says EISDIR
	}
	if g != w {
		return fmt.Errorf("confine: %v (%s), os.Root: %v (%s)", got.err, g, want.err, w)
	}
	if o.code == opReadlink {
		got.data = strings.ReplaceAll(got.data, e.base, "<base>")
		want.data = strings.ReplaceAll(want.data, e.tbase, "<base>")
	}
	if got.data != want.data {
		return fmt.Errorf("confine read %q, os.Root %q", got.data, want.data)
	}
	if len(got.files) != len(want.files) {
		return fmt.Errorf("confine opened %d files, os.Root %d", len(got.files), len(want.files))
	}
	if len(got.files) == 0 {
		return nil
	}
	gin, err1 := inodes(e.root)
	win, err2 := inodes(e.troot)
	if err := errors.Join(err1, err2); err != nil {
		return err
	}
	for i := range got.files {
		gi, err1 := fdDevIno(int(got.files[i].Fd()))
		wi, err2 := fdDevIno(int(want.files[i].Fd()))
		if err := errors.Join(err1, err2); err != nil {
			return err
		}
		if gin[gi] != win[wi] {
			return fmt.Errorf("confine opened %q, os.Root %q", gin[gi], win[wi])
		}
	}
	return nil
}
