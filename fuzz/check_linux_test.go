//go:build linux

package fuzz

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/pathguard/pathguard/securepath"
)

// FuzzCheck builds a small tree from its input (directories and files
// with owners, groups and modes, sticky and set-id bits included, and
// symlinks, relative or absolute, owned by anyone) and asserts that
// securepath.Check on a path from the input (".." and links included)
// agrees with fio15, a model of CERT FIO15-C written here from the rules
// securepath's documentation gives: the same error or none, and the same
// directories, in the same order, with the same verdicts.
//
// Owners and groups other than the process's own are used only as root.
func FuzzCheck(f *testing.F) {
	for _, s := range seeds(checkSeeds()) {
		f.Add(s)
	}
	// 32 levels down, so that links with ".." never lead out of the
	// temporary directory; on a tmpfs seen only from the namespace
	// thread, where every input runs (memDir).
	ns := ns()
	dir := ns.memDir(f)
	var base string
	var err error
	ns.do(func() { base, err = nest(dir, 32) })
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var err error
		ns.do(func() { err = checkOne(base, decodeCheck(data)) })
		if err != nil {
			t.Fatal(err)
		}
	})
}

// checkOne is one FuzzCheck input: the tree built in base, Check against
// the model.
func checkOne(base string, c checkCase) error {
	defer clearDir(base)
	if err := c.build(base); err != nil {
		return err
	}
	path := base + c.path
	fds := countFDs()
	rep, err := securepath.Check(path, c.policy)
	if n := countFDs(); n != fds {
		return fmt.Errorf("%v: %d descriptors open before Check, %d after", c, fds, n)
	}
	want, werr := fio15(path, c.policy)
	if g, w := class(err), class(werr); g != w {
		return fmt.Errorf("%v: Check(%q) error %v (%s), the model %v (%s)", c, path, err, g, werr, w)
	}
	if err != nil {
		return nil
	}
	var got []string
	for _, e := range rep.Entries {
		got = append(got, fmt.Sprintf("%s %v", e.Path, e.Verdict))
	}
	if !slices.Equal(got, want) {
		return fmt.Errorf("%v: Check(%q):\n\t%s\nthe model:\n\t%s\nreport:\n%s", c, path,
			strings.Join(got, "\n\t"), strings.Join(want, "\n\t"), rep)
	}
	secure := !slices.ContainsFunc(want, func(s string) bool { return strings.HasSuffix(s, " insecure") })
	if (rep.Err() == nil) != secure {
		return fmt.Errorf("%v: Check(%q).Err() = %v, but the model says secure=%v", c, path, rep.Err(), secure)
	}
	return nil
}

// fio15 judges the directory path on its own terms: it walks the path
// from "/" by name (Lstat), following links by their text, and returns
// each directory met, once, in order, as "path verdict". The rules:
//
//   - a directory is secure when its owner is trusted (root, the
//     effective uid, the Policy's TrustedUIDs) and nobody untrusted can
//     write it: no other-write bit, no group-write bit unless its group
//     is in TrustedGIDs, no POSIX access ACL;
//   - a directory others can write that has the sticky bit is still
//     secure as an ancestor, as long as every entry the walk passes
//     through in it (directory or symlink) is owned by a trusted user;
//   - the target itself must not be writable by anyone untrusted, even
//     sticky;
//   - ".." goes back to the directory the walk came from, never above
//     "/"; a relative link is read from the directory holding it, an
//     absolute one from "/"; the 41st link is ELOOP; a file on the way,
//     or as the target, is ENOTDIR.
func fio15(path string, p *securepath.Policy) ([]string, error) {
	trustedUID := func(uid uint32) bool {
		return uid == 0 || int(uid) == os.Geteuid() || p != nil && slices.Contains(p.TrustedUIDs, int(uid))
	}
	type dir struct {
		path     string
		st       unix.Stat_t
		writable bool // by someone untrusted
	}
	var order []string
	bad := map[string]bool{}
	var stack []dir
	enter := func(path string) error {
		var st unix.Stat_t
		if err := unix.Lstat(path, &st); err != nil {
			return err
		}
		d := dir{path: path, st: st}
		d.writable = st.Mode&0o002 != 0 ||
			st.Mode&0o020 != 0 && !(p != nil && slices.Contains(p.TrustedGIDs, int(st.Gid)))
		if _, err := unix.Lgetxattr(path, "system.posix_acl_access", nil); err == nil || errors.Is(err, unix.ERANGE) {
			d.writable = true
		}
		if !slices.Contains(order, path) {
			order = append(order, path)
		}
		if !trustedUID(st.Uid) || d.writable && st.Mode&unix.S_ISVTX == 0 {
			bad[path] = true
		}
		stack = append(stack, d)
		return nil
	}
	if err := enter("/"); err != nil {
		return nil, err
	}
	todo := strings.Split(path, "/")
	hops := 0
	for len(todo) > 0 {
		c := todo[0]
		todo = todo[1:]
		if c == "" || c == "." {
			continue
		}
		if c == ".." {
			if len(stack) > 1 {
				stack = stack[:len(stack)-1]
			}
			continue
		}
		top := stack[len(stack)-1]
		p := top.path + "/" + c
		if top.path == "/" {
			p = "/" + c
		}
		var st unix.Stat_t
		if err := unix.Lstat(p, &st); err != nil {
			return nil, err
		}
		switch st.Mode & unix.S_IFMT {
		case unix.S_IFLNK, unix.S_IFDIR:
			// An entry the walk passes through: in a directory others
			// can write (sticky, else it is insecure already), it must
			// be owned by someone trusted.
			if top.writable && !trustedUID(st.Uid) {
				bad[top.path] = true
			}
		default:
			return nil, syscall.ENOTDIR
		}
		if st.Mode&unix.S_IFMT == unix.S_IFDIR {
			if err := enter(p); err != nil {
				return nil, err
			}
			continue
		}
		if hops++; hops > 40 {
			return nil, syscall.ELOOP
		}
		tgt, err := os.Readlink(p)
		if err != nil {
			return nil, err
		}
		if strings.HasPrefix(tgt, "/") {
			stack = stack[:1]
		}
		todo = append(strings.Split(tgt, "/"), todo...)
	}
	if t := stack[len(stack)-1]; t.writable {
		bad[t.path] = true
	}
	out := make([]string, len(order))
	for i, d := range order {
		v := securepath.Secure
		if bad[d] {
			v = securepath.Insecure
		}
		out[i] = fmt.Sprintf("%s %v", d, v)
	}
	return out, nil
}

// checkCase is a decoded FuzzCheck input.
type checkCase struct {
	policy  *securepath.Policy
	entries []checkEntry
	path    string // below the base directory, starting with "/"
}

type checkEntry struct {
	kind     byte // 'd', 'f', 'l'
	name     string
	target   string // of a link; absMark stands for the base directory
	uid, gid int
	mode     uint32
}

func (c checkCase) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "policy %+v, tree:", c.policy)
	for _, e := range c.entries {
		fmt.Fprintf(&b, " %c %s", e.kind, e.name)
		if e.kind == 'l' {
			fmt.Fprintf(&b, " -> %s", strings.Replace(e.target, absMark, "<base>/", 1))
		} else {
			fmt.Fprintf(&b, " %#o", e.mode)
		}
		fmt.Fprintf(&b, " %d:%d;", e.uid, e.gid)
	}
	fmt.Fprintf(&b, " path <base>%s", c.path)
	return b.String()
}

var (
	checkComps   = []string{"a", "b", "c", "l", "m", "t", "o", ".."}
	checkTargets = []string{"a", "b", "..", ".", "../a", "a/b", "l", "c", "../..", "m"}
	checkModes   = []uint32{0o755, 0o777 | unix.S_ISVTX, 0o777, 0o775, 0o770 | unix.S_ISVTX, 0o700, 0o1755, 0o757, 0o2775, 0o711}
)

// ids returns the owner and group an input byte stands for: root, the
// process, uid/gid 1000 and nobody (65534); only the process's own
// when not root.
func ids(b byte) (int, int) {
	if os.Geteuid() != 0 {
		return os.Geteuid(), os.Getegid()
	}
	all := []int{0, 1000, 65534, os.Geteuid()}
	return all[int(b)%4], all[int(b>>2)%4]
}

// checkStart is where every FuzzCheck tree starts: t, sticky and
// world-writable and owned by root like a system's /tmp, holding o, a
// directory of uid 1000's (the process's own when not root). A path
// through t/o meets the sticky rule: an ancestor others can write is
// acceptable only when the entry passed through in it is trusted. Found
// by chance alone, that tree took the fuzzer most of a minute.
func checkStart() []checkEntry {
	uid, gid := ids(1) // 1000:0 as root
	return []checkEntry{
		{kind: 'd', name: "/t", mode: 0o777 | unix.S_ISVTX},
		{kind: 'd', name: "/t/o", uid: uid, gid: gid, mode: 0o755},
	}
}

// decodeCheck reads a policy byte, up to eight entries (each: a parent
// among t, t/o and the directories before it, a name, a kind, owner and
// group, a mode or a link target) and the path to check: components, or
// the name of one of the entries (t and t/o included) followed by
// components.
func decodeCheck(data []byte) checkCase {
	in := &input{b: data}
	c := checkCase{entries: checkStart()}
	if os.Geteuid() != 0 {
		c.entries[0].uid, c.entries[0].gid = ids(0)
	}
	pb := in.byte()
	if pb&7 != 0 {
		c.policy = &securepath.Policy{}
		if pb&2 != 0 {
			c.policy.TrustedUIDs = []int{1000}
		}
		if pb&4 != 0 {
			c.policy.TrustedGIDs = []int{1000}
		}
		if pb&8 != 0 {
			c.policy.TrustedGIDs = append(c.policy.TrustedGIDs, 0)
		}
	}
	dirs := []string{"", "/t", "/t/o"}
	n := 1 + int(in.byte())%8
	for i := 0; i < n; i++ {
		var e checkEntry
		parent := dirs[int(in.byte())%len(dirs)]
		e.name = parent + "/" + checkComps[int(in.byte())%(len(checkComps)-1)]
		kb := in.byte()
		e.uid, e.gid = ids(in.byte())
		switch kb % 4 {
		case 0, 1:
			e.kind = 'd'
			e.mode = checkModes[int(in.byte())%len(checkModes)]
			if kb&0x80 != 0 {
				e.mode = uint32(in.byte())<<4&0o7000 | uint32(in.byte())&0o777
			}
			dirs = append(dirs, e.name)
		case 2:
			e.kind = 'f'
			e.mode = 0o644
		default:
			e.kind = 'l'
			t := in.byte()
			var comps []string
			for j := 0; j < 1+int(t)%3; j++ {
				comps = append(comps, checkTargets[int(in.byte())%len(checkTargets)])
			}
			e.target = strings.Join(comps, "/")
			if t&0x80 != 0 {
				e.target = absMark + dirs[int(in.byte())%len(dirs)] + "/" + e.target
			}
		}
		c.entries = append(c.entries, e)
	}
	k := in.byte()
	extra := 1 + int(k)%4
	if k&0x40 != 0 {
		// The path of an entry, and up to three more components.
		c.path = c.entries[int(in.byte())%len(c.entries)].name
		extra--
	}
	for i := 0; i < extra; i++ {
		c.path += "/" + checkComps[int(in.byte())%len(checkComps)]
	}
	if k&0x80 != 0 {
		c.path += "/"
	}
	return c
}

// build makes the tree under base: every entry first (a name taken
// already is skipped), then owners, and modes last, deepest first, so
// that no mode stops the building.
func (c checkCase) build(base string) error {
	var made []checkEntry
	for _, e := range c.entries {
		p := base + e.name
		if !realParents(base, e.name) {
			// The name is taken already, or its parent is a link or a
			// file: the entry is left out, and nothing is ever made
			// through a link.
			continue
		}
		var err error
		switch e.kind {
		case 'd':
			err = os.Mkdir(p, 0o755)
		case 'f':
			err = os.WriteFile(p, nil, 0o644)
		case 'l':
			err = os.Symlink(target(e.target, base), p)
		}
		if err != nil {
			continue // a parent left out before
		}
		made = append(made, e)
	}
	for i := len(made) - 1; i >= 0; i-- {
		e := made[i]
		p := base + e.name
		if os.Geteuid() == 0 {
			if err := os.Lchown(p, e.uid, e.gid); err != nil {
				return err
			}
		}
		if e.kind != 'l' {
			if err := unix.Fchmodat(unix.AT_FDCWD, p, e.mode, 0); err != nil {
				return err
			}
		}
	}
	return nil
}

func checkSeeds() [][]byte {
	ci := func(s string) byte { return byte(slices.Index(checkComps, s)) }
	ti := func(s string) byte { return byte(slices.Index(checkTargets, s)) }
	mi := func(m uint32) byte { return byte(slices.Index(checkModes, m)) }
	const root, nobody = 0, 2 // ids: uid index | gid index << 2
	// Entries: parent, name, kind (0 dir, 2 file, 3 link), ids, mode or
	// target. Parent 0 is the base directory, 1 the first directory
	// made here (after t and t/o), and so on.
	pi := func(parent byte) byte {
		if parent > 0 {
			parent += 2
		}
		return parent
	}
	dir := func(parent byte, name string, id byte, mode uint32) []byte {
		return []byte{pi(parent), ci(name), 0, id, mi(mode)}
	}
	link := func(parent byte, name string, id byte, tgt ...string) []byte {
		b := []byte{pi(parent), ci(name), 3, id, byte(len(tgt) - 1)}
		for _, t := range tgt {
			b = append(b, ti(t))
		}
		return b
	}
	tree := func(policy byte, path []string, ents ...[]byte) []byte {
		b := []byte{policy, byte(len(ents) - 1)}
		for _, e := range ents {
			b = append(b, e...)
		}
		b = append(b, byte(len(path)-1))
		for _, c := range path {
			b = append(b, ci(c))
		}
		return b
	}
	sticky := 0o777 | uint32(unix.S_ISVTX)
	return [][]byte{
		// The unit table's cases: a private directory; world-writable;
		// group-writable with a trusted and an untrusted group; sticky
		// as an ancestor and as the target; owned by nobody; a link in a
		// sticky directory, trusted and not; ".." out of an insecure
		// directory; a file on the way.
		tree(0, []string{"a"}, dir(0, "a", root, 0o700)),
		tree(0, []string{"a"}, dir(0, "a", root, 0o777)),
		tree(0, []string{"a"}, dir(0, "a", root|nobody<<2, 0o775)),
		tree(4, []string{"a"}, dir(0, "a", root|1<<2, 0o775)),
		tree(0, []string{"a", "b"}, dir(0, "a", root, sticky), dir(1, "b", root, 0o700)),
		tree(0, []string{"a", "b"}, dir(0, "a", root, sticky), dir(1, "b", nobody, 0o700)),
		tree(0, []string{"a"}, dir(0, "a", root, sticky)),
		tree(0, []string{"a"}, dir(0, "a", nobody, 0o755)),
		tree(2, []string{"a"}, dir(0, "a", 1, 0o755)),
		tree(0, []string{"a", "l"}, dir(0, "a", root, sticky), dir(0, "b", root, 0o700), link(1, "l", root, "..", "b")),
		tree(0, []string{"a", "l"}, dir(0, "a", root, sticky), dir(0, "b", root, 0o700), link(1, "l", nobody, "..", "b")),
		tree(0, []string{"a", "..", "b"}, dir(0, "a", root, 0o777), dir(0, "b", root, 0o700)),
		tree(0, []string{"c", "a"}, []byte{0, ci("c"), 2, 0}, dir(0, "a", root, 0o700)),
		tree(0, []string{"l"}, link(0, "l", root, "l")),
		tree(0, []string{"l", "..", "a"}, dir(0, "a", root, 0o700), dir(1, "b", root, 0o777), link(0, "l", root, "a", "b")),
	}
}
