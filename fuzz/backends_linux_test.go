//go:build linux

package fuzz

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/pathguard/pathguard/confine"
	"github.com/pathguard/pathguard/internal/testfs"
)

// backendsNames are the components of FuzzBackends's entry names and
// operation names.
var backendsNames = []string{"a", "b", "c", "d", "l", "m", "f", "mnt", "outside", "..", ".", "x"}

// backendsEnv holds two bases, one per backend, each with a canary
// "outside" beside its "root".
type backendsEnv struct {
	ns     *nsThread
	bases  [2]string
	canary [2]map[string]string
}

func newBackendsEnv(tb testing.TB) *backendsEnv {
	e := &backendsEnv{ns: ns()}
	// The two trees are named alike but for one byte, so that their
	// paths, and the absolute links in them, have the same length.
	dir := e.ns.memDir(tb)
	for i := range e.bases {
		var err error
		// On the namespace thread, which alone sees a tmpfs on dir.
		e.ns.do(func() {
			var b string
			if b, err = nest(fmt.Sprintf("%s/%d", dir, i), 32); err != nil {
				return
			}
			e.bases[i] = b
			if err = errors.Join(testfs.MakeEntry(b, "outside/f=SECRET"), testfs.MakeEntry(b, "outside/d/"), os.Mkdir(b+"/root", 0o755)); err != nil {
				return
			}
			e.canary[i], err = snapshot(b+"/outside", true)
		})
		if err != nil {
			tb.Fatal(err)
		}
	}
	tb.Cleanup(func() {
		e.ns.do(func() {
			for _, b := range e.bases {
				clearDir(b + "/root")
			}
		})
	})
	return e
}

// backendsCase is a decoded FuzzBackends input.
type backendsCase struct {
	cfg  byte
	tree []string // testfs entries below root; absMark in link targets
	ops  []op
}

// decodeBackends reads the configuration byte (mode, NoSymlinks, NoXDev,
// a tmpfs on root/mnt, a Root on /proc/<pid>), up to ten entries
// (directories, files, links with any target) and up to six operations.
func decodeBackends(data []byte, mountOK bool) backendsCase {
	in := &input{b: data}
	c := backendsCase{cfg: in.byte() &^ (cfgWalk | cfgRefuse | cfgSwap)}
	if c.cfg&cfgNoXDev != 0 {
		c.cfg |= cfgMount // NoXDev is always tried on a tree holding a mount
	}
	if !mountOK {
		c.cfg &^= cfgMount
	}
	if c.cfg&cfgProc != 0 {
		c.cfg &^= cfgMount
	}
	n := int(in.byte()) % 11
	if c.cfg&cfgProc != 0 {
		n = 0
	}
	for i := 0; i < n; i++ {
		k := in.byte()
		name := strings.TrimLeft(strings.TrimRight(in.name(backendsNames[:9]), "/"), "/")
		switch k % 3 {
		case 0:
			c.tree = append(c.tree, name+"/")
		case 1:
			c.tree = append(c.tree, name+"="+name)
		default:
			c.tree = append(c.tree, name+" => "+decodeTarget(in, opsTargets, absPool))
		}
	}
	allowed, pool := []int(nil), backendsNames
	if c.cfg&cfgProc != 0 {
		allowed, pool = readOnlyOps, procNames
	} else {
		for i := 0; i < numOps; i++ {
			allowed = append(allowed, i)
		}
	}
	for n := 1 + int(in.byte())%6; len(c.ops) < n; {
		c.ops = append(c.ops, decodeOp(in, allowed, pool, opsTargets, absPool))
	}
	return c
}

func backendsSeeds() [][]byte {
	ni := func(s string) byte { return byte(slices.Index(backendsNames, s)) }
	ti := func(s string) byte { return byte(slices.Index(opsTargets, s)) }
	var seeds [][]byte
	for _, cfg := range []byte{0, cfgInRoot, cfgNoSymlinks, cfgInRoot | cfgNoSymlinks, cfgMount | cfgNoXDev, cfgMount | cfgNoXDev | cfgInRoot} {
		// a/, a/f, l -> ../outside, m -> a, b -> /<base>/outside/f
		// (absolute), then ops through each of them.
		tree := []byte{cfg, 6,
			0, 0, ni("a"),
			1, 1, ni("a"), ni("f"),
			2, 0, ni("l"), 1, ti(".."), ti("outside"),
			2, 0, ni("m"), 0, ti("a"),
			2, 0, ni("b"), 0x80, ti("outside"),
			2, 0, ni("c"), 0, ti("loop"),
		}
		for _, o := range [][]byte{
			{byte(opOpen), 2, ni("l"), ni("f")},
			{byte(opOpen), 1, ni("m"), ni("f")},
			{byte(opReadFile), 0, ni("b")},
			{byte(opStat), 0, ni("c")},
			{byte(opResolve), 2, ni("m"), ni(".."), ni("a")},
			{byte(opMkdirAll), 1, ni("l"), ni("x"), 0},
			{byte(opOpenFile), 1, ni("m"), ni("x"), 1, 0, 0},
			{byte(opRemoveAll), 0x80, ni("m")},
			{byte(opRename), 1, ni("m"), ni("f"), 0, ni("x")},
			{byte(opOpen), 1, ni("mnt"), ni("..")},
			{byte(opReadDir), 0, ni("..")},
		} {
			seeds = append(seeds, append(append(slices.Clone(tree), 0), o...))
		}
	}
	for _, cfg := range []byte{cfgProc, cfgProc | cfgInRoot, cfgProc | cfgNoXDev} {
		pidx := func(s string) byte { return byte(slices.Index(procNames, s)) }
		for _, n := range [][]string{{"cwd"}, {"fd", "1"}, {"task", strconv.Itoa(os.Getpid()), "root"}, {"self"}, {"..", "self", "status"}, {"ns", "mnt"}} {
			for _, code := range []int{opOpen, opStat, opReadlink, opResolve} {
				b := []byte{cfg, 0, 0, byte(slices.Index(readOnlyOps, code)), byte(len(n) - 1)}
				for _, c := range n {
					b = append(b, pidx(c))
				}
				seeds = append(seeds, b)
			}
		}
	}
	return seeds
}

// FuzzBackends builds a tree from its input (directories, files and links
// with any target, beside a canary) twice, opens a Root with the openat2
// backend on one and a Root with the walk on the other, in the mode and
// with the flags the input chooses (a tmpfs mounted in the tree for
// NoXDev; or both Roots on /proc/<pid>, read-only operations), and runs
// the same operations on both: every operation, not only Open, must give
// the same class of result (success, or the same errno or sentinel), the
// same data read, the same file opened (by its place in the tree), and
// the two trees must end up the same. No fd leaks either.
func FuzzBackends(f *testing.F) {
	if r, err := confine.OpenRoot(tempDir(f), confine.WithResolver(confine.ResolverOpenat2)); err != nil {
		f.Skipf("no openat2 backend here: %v", err)
	} else {
		r.Close()
	}
	for _, s := range seeds(backendsSeeds()) {
		f.Add(s)
	}
	e := newBackendsEnv(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		var err error
		e.ns.do(func() { err = e.run(decodeBackends(data, e.ns.ok)) })
		if err != nil {
			t.Fatal(err)
		}
	})
}

func (e *backendsEnv) run(c backendsCase) error {
	proc := c.cfg&cfgProc != 0
	var log []string
	fail := func(format string, args ...any) error {
		return fmt.Errorf("config %#02x (%s), tree %q: %s\nsteps:\n\t%s", c.cfg, strings.TrimPrefix(strings.TrimPrefix(cfgString(c.cfg), "openat2"), ","),
			c.tree, fmt.Sprintf(format, args...), strings.Join(log, "\n\t"))
	}
	var dirs [2]string
	var roots [2]*confine.Root
	defer func() {
		for _, r := range roots {
			if r != nil {
				r.Close()
			}
		}
	}()
	fds := countFDs()
	for i, b := range e.bases {
		dirs[i] = b + "/root"
		if proc {
			dirs[i] = "/proc/" + strconv.Itoa(os.Getpid())
		} else {
			if err := clearDir(dirs[i]); err != nil {
				return err
			}
			os.Chmod(dirs[i], 0o755)
			if c.cfg&cfgMount != 0 {
				if err := unix.Mount("tmpfs", dirs[i]+"/mnt", "tmpfs", 0, "size=1m,mode=0755"); err != nil {
					if err := os.Mkdir(dirs[i]+"/mnt", 0o755); err != nil {
						return err
					}
					if err := unix.Mount("tmpfs", dirs[i]+"/mnt", "tmpfs", 0, "size=1m,mode=0755"); err != nil {
						return fmt.Errorf("mount: %v", err)
					}
				}
				defer unix.Unmount(dirs[i]+"/mnt", unix.MNT_DETACH)
				if err := testfs.MakeEntry(dirs[i], "mnt/m=M"); err != nil {
					return err
				}
			}
			for _, ent := range c.tree {
				if name, tgt, ok := strings.Cut(ent, " => "); ok {
					ent = name + " => " + target(tgt, b)
				}
				// An entry whose name is taken, or whose parent is a
				// file or a link, is left out: the same in both trees.
				name, _, _ := strings.Cut(strings.TrimSuffix(ent, "/"), " => ")
				name, _, _ = strings.Cut(name, "=")
				if realParents(dirs[i], name) {
					testfs.MakeEntry(dirs[i], ent)
				}
			}
		}
		opts := optsOf(i == 1, c.cfg&cfgInRoot != 0, c.cfg&cfgNoSymlinks != 0, c.cfg&cfgNoXDev != 0, false)
		r, err := confine.OpenRoot(dirs[i], opts...)
		if err != nil {
			return fail("OpenRoot: %v", err)
		}
		roots[i] = r
	}
	for _, o := range c.ops {
		var res [2]result
		for i := range roots {
			res[i] = applyRetry(roots[i], o, e.bases[i], proc)
			if proc {
				// A file left open would show in the other's /proc
				// view: close it first.
				res[i].close()
			}
		}
		log = append(log, fmt.Sprintf("%s = %v (openat2), %v (walk)", o, res[0].err, res[1].err))
		err := e.compare(o, res, dirs, proc)
		res[0].close()
		res[1].close()
		if err != nil {
			return fail("%s: %v", o, err)
		}
	}
	for i := range roots {
		roots[i].Close()
		roots[i] = nil
	}
	if n := countFDs(); n != fds {
		return fail("%d descriptors open before, %d after", fds, n)
	}
	if proc {
		return nil
	}
	var snaps [2]map[string]string
	for i, b := range e.bases {
		m, err := snapshot(b+"/outside", true)
		if err != nil {
			return err
		}
		if d := diffMaps(e.canary[i], m); d != nil {
			return fail("the canary outside the root changed:\n\t%s", strings.Join(d, "\n\t"))
		}
		if snaps[i], err = snapshot(dirs[i], false); err != nil {
			return err
		}
		snaps[i] = normBase(snaps[i], b)
	}
	if d := diffMaps(snaps[0], snaps[1]); d != nil {
		return fail("the trees differ (openat2 -> walk):\n\t%s", strings.Join(d, "\n\t"))
	}
	return nil
}

// compare checks that the openat2 result and the walk result agree.
func (e *backendsEnv) compare(o op, res [2]result, dirs [2]string, proc bool) error {
	for i := range res {
		if strings.Contains(res[i].data, "SECRET") {
			return fmt.Errorf("backend %d read %q: the canary's content", i, res[i].data)
		}
	}
	g, w := class(res[0].err), class(res[1].err)
	if g != w {
		return fmt.Errorf("openat2: %v (%s), walk: %v (%s)", res[0].err, g, res[1].err, w)
	}
	if proc {
		return nil
	}
	d0 := strings.ReplaceAll(res[0].data, e.bases[0], "<base>")
	d1 := strings.ReplaceAll(res[1].data, e.bases[1], "<base>")
	if d0 != d1 {
		return fmt.Errorf("openat2 read %q, walk %q", d0, d1)
	}
	if len(res[0].files) != len(res[1].files) {
		return fmt.Errorf("openat2 opened %d files, walk %d", len(res[0].files), len(res[1].files))
	}
	if len(res[0].files) == 0 {
		return nil
	}
	var where [2]string
	for i := range res {
		in, err := inodes(dirs[i])
		if err != nil {
			return err
		}
		di, err := fdDevIno(int(res[i].files[0].Fd()))
		if err != nil {
			return err
		}
		p, ok := in[di]
		if !ok {
			return fmt.Errorf("the file opened by backend %d is not in the root", i)
		}
		where[i] = p
	}
	if where[0] != where[1] {
		return fmt.Errorf("openat2 opened %q, walk %q", where[0], where[1])
	}
	return nil
}
