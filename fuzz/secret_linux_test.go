//go:build linux

package fuzz

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/pathguard/pathguard/canon"
	"github.com/pathguard/pathguard/confine"
	"github.com/pathguard/pathguard/internal/testfs"
	"github.com/pathguard/pathguard/securepath"
)

// secretTree is the tree FuzzSecret writes into: regular files, links
// inward, outward and dangling (both ways), a hard link to the canary, a
// FIFO and a socket inside the root, beside the canary tree "outside".
var secretTree = []string{
	"root/f=F", "root/d/g=G", "root/d/e/", "root/ro/h=H",
	"root/lf => f", "root/ld => d", "root/lout => ../outside/f", "root/ldout => ../outside",
	"root/ldang => nowhere", "root/ldangout => ../outside/new", "root/labs => " + absMark + "outside/f",
	"root/d/up => ../f", "root/loop => loop",
	"outside/f=SECRET", "outside/d/g=SG",
}

var secretNames = []string{
	"f", "d", "g", "e", "ro", "h", "lf", "ld", "lout", "ldout", "ldang", "ldangout", "labs", "up",
	"loop", "fifo", "sock", "hard", "new", "x", "..", ".", "outside", ".f.0123456789abcdef.tmp",
}

var secretUmasks = []int{0o022, 0o077, 0, 0o027}

// secretEnv is what FuzzSecret keeps across iterations.
type secretEnv struct {
	ns         *nsThread
	base, root string
	canary     map[string]string
}

func newSecretEnv(tb testing.TB) *secretEnv {
	e := &secretEnv{ns: ns()}
	dir := e.ns.memDir(tb)
	var err error
	// On the namespace thread, which alone sees a tmpfs on dir; every
	// input runs there too.
	e.ns.do(func() { err = e.build(dir) })
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { e.ns.do(func() { clearDir(e.root) }) })
	return e
}

func (e *secretEnv) build(dir string) error {
	base, err := nest(dir, 32)
	if err != nil {
		return err
	}
	e.base, e.root = base, base+"/root"
	for _, ent := range secretTree {
		if strings.HasPrefix(ent, "outside/") {
			if err := testfs.MakeEntry(base, ent); err != nil {
				return err
			}
		}
	}
	if err := e.reset(); err != nil {
		return err
	}
	e.canary, err = e.outside()
	return err
}

func (e *secretEnv) outside() (map[string]string, error) {
	m, err := snapshot(e.base+"/outside", true)
	if err != nil {
		return nil, err
	}
	ents, err := os.ReadDir(e.base)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, ent := range ents {
		names = append(names, ent.Name())
	}
	m["listing of base"] = strings.Join(names, ",")
	return m, nil
}

func (e *secretEnv) reset() error {
	if err := os.Mkdir(e.root, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	os.Chmod(e.root, 0o755)
	if err := clearDir(e.root); err != nil {
		return err
	}
	for _, ent := range secretTree {
		if rest, ok := strings.CutPrefix(ent, "root/"); ok {
			if name, tgt, ok := strings.Cut(rest, " => "); ok {
				ent = "root/" + name + " => " + target(tgt, e.base)
			}
			if err := testfs.MakeEntry(e.base, ent); err != nil {
				return err
			}
		}
	}
	return errors.Join(
		unix.Mkfifo(e.root+"/fifo", 0o644),
		unix.Mknod(e.root+"/sock", unix.S_IFSOCK|0o644, 0),
		os.Link(e.base+"/outside/f", e.root+"/hard"),
		os.Chmod(e.root+"/ro", 0o555),
	)
}

// secretCase is a decoded FuzzSecret input.
type secretCase struct {
	cfg   byte
	name  string
	perm  fs.FileMode
	mode  securepath.WriteMode
	umask int
	data  []byte
}

func (c secretCase) String() string {
	return fmt.Sprintf("config %#02x (%s), umask %#o: WriteFile(%q, %q, %#o, %d)",
		c.cfg, cfgString(c.cfg&(cfgWalk|cfgInRoot|cfgNoSymlinks|cfgRefuse)), c.umask, c.name, c.data, uint32(c.perm), c.mode)
}

// decodeSecret reads the configuration byte (backend, mode, NoSymlinks,
// openat2 refused), the name, the perm (two bytes: a valid perm, or with
// bit 14 raw set-id and sticky bits, or with bit 15 an fs.FileMode type
// or flag bit, all of which must be refused), the write mode (0 and 3
// are not modes), the umask and the data (the rest).
func decodeSecret(data []byte) secretCase {
	in := &input{b: data}
	c := secretCase{cfg: in.byte()}
	c.name = in.name(secretNames)
	p := uint32(in.byte())<<8 | uint32(in.byte())
	switch {
	case p&0x8000 != 0:
		// The high bit of the pair sets a mode type or flag bit.
		p = p&0o777 | uint32(fs.ModeSetuid)>>uint(p>>9&7)
	case p&0x4000 != 0:
		p &= 0o7777 // raw set-id and sticky bits, which are no perm
	default:
		p &= 0o777 // most inputs: a valid perm
	}
	c.perm = fs.FileMode(p)
	c.mode = securepath.WriteMode(in.byte() % 4)
	c.umask = secretUmasks[int(in.byte())%len(secretUmasks)]
	if in.i < len(in.b) {
		c.data = in.b[in.i:]
	}
	return c
}

func secretSeeds() [][]byte {
	idx := func(s string) byte { return byte(slices.Index(secretNames, s)) }
	var seeds [][]byte
	for _, cfg := range []byte{0, cfgWalk, cfgInRoot, cfgInRoot | cfgWalk, cfgRefuse, cfgNoSymlinks | cfgWalk} {
		for _, n := range [][]string{
			{"new"}, {"f"}, {"lf"}, {"lout"}, {"ldang"}, {"ldangout"}, {"labs"}, {"fifo"}, {"sock"},
			{"hard"}, {"d"}, {"ld", "new"}, {"ldout", "new"}, {"..", "outside", "new"}, {"d", "up"},
			{"ro", "new"}, {"loop"}, {"d", ".."}, {".f.0123456789abcdef.tmp"},
		} {
			for _, mode := range []byte{byte(securepath.CreateOnly), byte(securepath.Replace)} {
				b := []byte{cfg, byte(len(n) - 1)}
				for _, c := range n {
					b = append(b, idx(c))
				}
				seeds = append(seeds, append(b, 0x01, 0x80, mode, 0, 's', 'e', 'c'))
			}
		}
	}
	// Modes beyond 0o777, a bad write mode, a trailing slash, umask 077.
	seeds = append(seeds,
		[]byte{0, 0, idx("new"), 0x4f, 0xff, 1, 0},
		[]byte{0, 0, idx("new"), 0x80, 0x00, 2, 0},
		[]byte{0, 0, idx("new"), 0x01, 0x80, 3, 0},
		[]byte{0, 0x80, idx("new"), 0x01, 0x80, 1, 0},
		[]byte{0, 0, idx("new"), 0x00, 0x00, 1, 1, 'x'},
		// Perms the umask or O_TMPFILE's creation mode would narrow:
		// 0o644 under umask 077, 0o755 under umask 0, Replace with 0o640.
		[]byte{0, 0, idx("new"), 0x01, 0xa4, 1, 1, 'x'},
		[]byte{cfgWalk, 0, idx("new"), 0x01, 0xed, 1, 2, 'x'},
		[]byte{0, 0, idx("f"), 0x01, 0xa0, 2, 1, 'x'},
	)
	return seeds
}

// FuzzSecret calls securepath.WriteFile once with a name, perm, write
// mode, umask and data from the input, on a Root whose backend, mode and
// NoSymlinks the input chooses too, over a tree holding links inward, outward and
// dangling, a hard link to the canary, a FIFO, a socket and a read-only
// directory, and asserts:
//
//   - the canary outside the root is unchanged and nothing appears
//     beside the root;
//   - on failure, nothing in the root changed (no temporary file left);
//   - on success, exactly one entry of the root changed: a regular file
//     with exactly perm (umask or not) and exactly the data, a new inode,
//     at the place Root.Resolve gives for the name; what was there
//     before was nothing, or a regular file and the mode was Replace;
//   - under NoSymlinks, no name that crosses a symlink succeeds;
//   - perm bits beyond 0o777 and unknown write modes are canon.ErrInvalid,
//     an existing link at the name is ErrSymlink, and success never
//     comes when the final entry is a link or not a regular file;
//   - errors are *fs.PathError, and no descriptor leaks.
func FuzzSecret(f *testing.F) {
	for _, s := range seeds(secretSeeds()) {
		f.Add(s)
	}
	e := newSecretEnv(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		c := decodeSecret(data)
		var err error
		e.ns.do(func() { err = e.run(c) })
		if err != nil {
			t.Fatalf("%v: %v", c, err)
		}
	})
}

func (e *secretEnv) run(c secretCase) error {
	if err := e.reset(); err != nil {
		return err
	}
	before, err := snapshot(e.root, false)
	if err != nil {
		return err
	}
	beforeIno, err := inodes(e.base)
	if err != nil {
		return err
	}
	fds := countFDs()
	if c.cfg&cfgRefuse != 0 {
		defer refuseOpenat2(syscall.ENOSYS)()
	}
	r, err := confine.OpenRoot(e.root, optsOf(c.cfg&cfgWalk != 0, c.cfg&cfgInRoot != 0, c.cfg&cfgNoSymlinks != 0, false, c.cfg&cfgRefuse != 0)...)
	if err != nil {
		return err
	}
	want := e.expect(r, c)
	crosses := c.cfg&cfgNoSymlinks != 0 && crossesLink(e.root, op{code: opWriteFile}, c.name, false, c.cfg&cfgInRoot != 0)
	old := syscall.Umask(c.umask)
	werr := testfs.Retry(func() error { return securepath.WriteFile(r, c.name, c.data, c.perm, c.mode) })
	syscall.Umask(old)
	var resolved string
	var rerr error
	var st unix.Stat_t
	if werr == nil {
		// The entry is looked at now: snapshot makes unreadable files
		// readable.
		if resolved, rerr = r.Resolve(c.name); rerr == nil {
			rerr = unix.Lstat(e.root+"/"+resolved, &st)
		}
	}
	r.Close()
	if n := countFDs(); n != fds {
		return fmt.Errorf("%d descriptors open before, %d after (err %v)", fds, n, werr)
	}
	after, err := e.outside()
	if err != nil {
		return err
	}
	if d := diffMaps(e.canary, after); d != nil {
		return fmt.Errorf("the canary outside the root changed (err %v):\n\t%s", werr, strings.Join(d, "\n\t"))
	}
	now, err := snapshot(e.root, false)
	if err != nil {
		return err
	}
	diff := diffMaps(before, now)
	if werr != nil {
		var pe *fs.PathError
		if !errors.As(werr, &pe) {
			return fmt.Errorf("error %#v is not a *fs.PathError", werr)
		}
		if d := diff; d != nil {
			return fmt.Errorf("failed (%v), yet the root changed:\n\t%s", werr, strings.Join(d, "\n\t"))
		}
		if want != nil && !errors.Is(werr, want) {
			return fmt.Errorf("failed with %v, which does not match %v", werr, want)
		}
		return nil
	}
	if want != nil {
		return fmt.Errorf("succeeded, where %v was due", want)
	}
	if crosses {
		return errors.New("succeeded under NoSymlinks, but the name crosses a symlink")
	}
	if c.perm&^fs.ModePerm != 0 || c.mode != securepath.CreateOnly && c.mode != securepath.Replace {
		return errors.New("succeeded with a perm beyond 0o777 or an unknown write mode")
	}
	if len(diff) != 1 {
		return fmt.Errorf("succeeded, and %d entries of the root changed, not one:\n\t%s", len(diff), strings.Join(diff, "\n\t"))
	}
	if rerr != nil {
		return fmt.Errorf("succeeded, but the name cannot be found then: %v (root changed: %s)", rerr, diff[0])
	}
	if was, ok := before[resolved]; ok {
		if !strings.HasPrefix(was, "100") { // S_IFREG in octal
			return fmt.Errorf("succeeded over %s, which was not a regular file: %s", resolved, was)
		}
		if c.mode != securepath.Replace {
			return fmt.Errorf("CreateOnly succeeded over the existing %s", resolved)
		}
	}
	p := e.root + "/" + resolved
	if st.Mode != unix.S_IFREG|uint32(c.perm) {
		return fmt.Errorf("wrote %s with mode %#o, not a regular file with %#o", resolved, st.Mode, uint32(c.perm))
	}
	if prev, ok := beforeIno[devIno{st.Dev, st.Ino}]; ok {
		return fmt.Errorf("wrote %s into an inode that existed before, %s", resolved, prev)
	}
	os.Chmod(p, 0o600)
	b, err := os.ReadFile(p)
	if err != nil {
		return err
	}
	if string(b) != string(c.data) {
		return fmt.Errorf("%s holds %q, not the data", resolved, b)
	}
	return nil
}

// expect returns the error WriteFile must give for c on the tree as it
// is, or nil where the test does not know: canon.ErrInvalid for a perm
// beyond 0o777 or an unknown write mode; for a name whose directory
// resolves (Root.Resolve) to a directory, ErrSymlink when its last
// component is a link there, ErrNotRegular when it is anything else but
// a regular file, fs.ErrExist for a regular file under CreateOnly.
func (e *secretEnv) expect(r *confine.Root, c secretCase) error {
	if c.perm&^fs.ModePerm != 0 || c.mode != securepath.CreateOnly && c.mode != securepath.Replace {
		return canon.ErrInvalid
	}
	dir, last := ".", c.name
	if i := strings.LastIndexByte(c.name, '/'); i >= 0 {
		dir, last = c.name[:i+1], c.name[i+1:]
	}
	if last == "" || last == "." || last == ".." {
		return nil
	}
	rdir, err := r.Resolve(dir)
	if err != nil {
		return nil
	}
	var st unix.Stat_t
	if err := unix.Lstat(e.root+"/"+rdir, &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFDIR {
		return nil
	}
	if err := unix.Lstat(e.root+"/"+rdir+"/"+last, &st); err != nil {
		return nil
	}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFLNK:
		return confine.ErrSymlink
	case unix.S_IFREG:
		if c.mode == securepath.CreateOnly {
			return fs.ErrExist
		}
		return nil
	}
	return securepath.ErrNotRegular
}
