package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/pathguard/pathguard/internal/resolve"
	"github.com/pathguard/pathguard/internal/testfs"
)

// scanBackends runs f under each resolution backend the machine has.
func scanBackends(t *testing.T, f func(t *testing.T)) {
	for _, name := range resolvers(t) {
		b := resolve.Walk
		if name == "openat2" {
			b = resolve.Openat2
		}
		t.Run(name, func(t *testing.T) {
			old := scanBackend
			scanBackend = b
			t.Cleanup(func() { scanBackend = old })
			f(t)
		})
	}
}

// runScanJSON runs scan with --json appended and decodes its report.
func runScanJSON(t *testing.T, args ...string) (int, scanReport) {
	t.Helper()
	code, out, errOut := runCmd(t, append(append([]string{"scan"}, args...), "--json")...)
	var rep scanReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("pathaudit scan %q: stdout is not one JSON object: %v\nstdout: %s\nstderr: %s", args, err, out, errOut)
	}
	return code, rep
}

// found lists the findings as "kind path", sorted.
func found(rep scanReport) []string {
	var got []string
	for _, f := range rep.Findings {
		got = append(got, f.Kind+" "+f.Path)
	}
	slices.Sort(got)
	return got
}

// plant builds the audited tree: every kind of problem scan knows, next
// to clean entries of each type that must not be flagged. ROOT is "root";
// "outside" lies next to it.
func plant(t *testing.T) (dir, root string) {
	t.Helper()
	dir = testfs.New(t,
		"outside/secret=s",
		"root/clean/f=x",
		"root/clean/sub/g=y",
		"root/clean/in => f",
		"root/clean/up => sub/../f",
		"root/clean/sub/back => ../f",
		"root/clean/todir => sub",
		"root/clean/dot => .",
		"root/bad/rel => ../../outside/secret",
		"root/bad/abs => /etc",
		"root/bad/viadir => ../clean/sub/../../../outside",
		"root/bad/dangling => nowhere",
		"root/bad/notdir => ../clean/f/x",
		"root/bad/loop1 => loop2",
		"root/bad/loop2 => loop1",
		"root/bad/ww/",
		"root/bad/sticky/",
		"root/bad/gw=x",
		"root/bad/ow=x",
		"root/bad/suid=x",
		"root/bad/sgid=x",
		"root/bad/h1=x",
	)
	root = filepath.Join(dir, "root")
	for name, mode := range map[string]os.FileMode{
		"bad/ww": 0o777 | os.ModeDir, "bad/sticky": 0o777 | os.ModeSticky,
		"bad/gw": 0o664, "bad/ow": 0o646,
		"bad/suid": 0o755 | os.ModeSetuid, "bad/sgid": 0o755 | os.ModeSetgid,
	} {
		if err := os.Chmod(filepath.Join(root, name), mode); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Link(filepath.Join(root, "bad/h1"), filepath.Join(root, "bad/h2")); err != nil {
		t.Fatal(err)
	}
	return dir, root
}

// planted is what scan must list on the tree from plant, and nothing else.
var planted = []string{
	"dangling bad/dangling",
	"dangling bad/loop1",
	"dangling bad/loop2",
	"dangling bad/notdir",
	"escape bad/abs",
	"escape bad/rel",
	"escape bad/viadir",
	"hardlink bad/h1",
	"hardlink bad/h2",
	"setid bad/sgid",
	"setid bad/suid",
	"writable bad/gw",
	"writable bad/ow",
	"writable bad/sticky",
	"writable bad/ww",
}

func TestScanPlanted(t *testing.T) {
	scanBackends(t, func(t *testing.T) {
		_, root := plant(t)
		code, rep := runScanJSON(t, root)
		if got := found(rep); !slices.Equal(got, planted) {
			t.Errorf("scan found\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(planted, "\n  "))
		}
		if code != exitFail || rep.Clean || len(rep.Errors) != 0 || rep.Error != "" {
			t.Errorf("scan = %d, clean %v, errors %v %q; want 1, findings only", code, rep.Clean, rep.Errors, rep.Error)
		}
		// ROOT itself, clean/ and bad/, clean's 6, sub's 2 and bad's 15.
		if rep.Scanned != 1+2+6+2+15 {
			t.Errorf("scan examined %d entries, want %d", rep.Scanned, 1+2+6+2+15)
		}
		for _, f := range rep.Findings {
			switch {
			case f.Kind == kindEscape || f.Kind == kindDangling:
				if want, err := os.Readlink(filepath.Join(root, f.Path)); err != nil || f.Target != want {
					t.Errorf("%s %s: target %q, want the link's text %q", f.Kind, f.Path, f.Target, want)
				}
			case f.Kind == kindHardlink && f.Nlink != 2:
				t.Errorf("hardlink %s: nlink %d, want 2", f.Path, f.Nlink)
			}
		}

		// The group-writable file is fine once its group is trusted.
		gid := strconv.Itoa(os.Getegid())
		_, rep = runScanJSON(t, root, "--trust-gid", gid)
		want := slices.DeleteFunc(slices.Clone(planted), func(s string) bool { return s == "writable bad/gw" })
		if got := found(rep); !slices.Equal(got, want) {
			t.Errorf("scan --trust-gid %s found\n  %s\nwant\n  %s", gid, strings.Join(got, "\n  "), strings.Join(want, "\n  "))
		}

		// A clean subtree is clean: exit 0, nothing listed.
		code, rep = runScanJSON(t, filepath.Join(root, "clean"))
		if code != exitOK || !rep.Clean || len(rep.Findings) != 0 || len(rep.Errors) != 0 {
			t.Errorf("scan clean/ = %d, %+v; want 0 and nothing found", code, rep)
		}
	})
}

// TestScanText: one line per finding, its kind first, then the summary.
func TestScanText(t *testing.T) {
	_, root := plant(t)
	code, out, errOut := runCmd(t, "scan", root)
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if code != exitFail || len(lines) != len(planted)+1 || errOut != "" {
		t.Fatalf("scan = %d, stdout:\n%s\nstderr: %q; want 1, %d lines and a summary", code, out, errOut, len(planted))
	}
	var got []string
	for _, l := range lines[:len(planted)] {
		kind, rest, _ := strings.Cut(l, " ")
		path, _, _ := strings.Cut(strings.TrimLeft(rest, " "), ": ")
		got = append(got, kind+" "+path)
	}
	slices.Sort(got)
	if !slices.Equal(got, planted) {
		t.Errorf("scan text lists\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(planted, "\n  "))
	}
	if !strings.HasPrefix(lines[len(planted)], "scanned 26 entries") {
		t.Errorf("summary %q", lines[len(planted)])
	}
}

// TestScanOwner: as root, files and directories owned by an untrusted
// user are writable by that user, and --trust-uid lifts it.
func TestScanOwner(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("chown to another user needs root")
	}
	root := testfs.New(t, "d/", "d/f=x", "ok=y")
	for _, n := range []string{"d", "d/f"} {
		if err := os.Lchown(filepath.Join(root, n), 12345, 0); err != nil {
			t.Fatal(err)
		}
	}
	code, rep := runScanJSON(t, root)
	if got, want := found(rep), []string{"writable d", "writable d/f"}; code != exitFail || !slices.Equal(got, want) {
		t.Errorf("scan = %d, %v; want 1, %v", code, got, want)
	}
	if code, rep := runScanJSON(t, root, "--trust-uid=12345"); code != exitOK || len(rep.Findings) != 0 {
		t.Errorf("scan --trust-uid=12345 = %d, %v; want 0, nothing", code, found(rep))
	}
}

// TestScanMount: a bind mount inside ROOT is listed; --no-xdev does not
// descend into it.
func TestScanMount(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("bind mounts need root")
	}
	dir := testfs.New(t, "src/ww/", "root/mnt/", "root/f=x")
	if err := os.Chmod(filepath.Join(dir, "src/ww"), 0o777); err != nil {
		t.Fatal(err)
	}
	mnt := filepath.Join(dir, "root/mnt")
	if err := unix.Mount(filepath.Join(dir, "src"), mnt, "", unix.MS_BIND, ""); err != nil {
		t.Skipf("bind mount refused: %v", err)
	}
	t.Cleanup(func() { unix.Unmount(mnt, unix.MNT_DETACH) })
	scanBackends(t, func(t *testing.T) {
		code, rep := runScanJSON(t, filepath.Join(dir, "root"))
		if got, want := found(rep), []string{"mount mnt", "writable mnt/ww"}; code != exitFail || !slices.Equal(got, want) {
			t.Errorf("scan = %d, %v; want 1, %v", code, got, want)
		}
		code, rep = runScanJSON(t, filepath.Join(dir, "root"), "--no-xdev")
		if got, want := found(rep), []string{"mount mnt"}; code != exitFail || !slices.Equal(got, want) || rep.Scanned != 3 {
			t.Errorf("scan --no-xdev = %d, %v, %d entries; want 1, %v, 3 entries", code, got, rep.Scanned, want)
		}
	})
}

// TestScanMagicLinks: the links in /proc/self/fd are magic links, listed
// as such and never followed.
func TestScanMagicLinks(t *testing.T) {
	var sfs unix.Statfs_t
	if unix.Statfs("/proc/self/fd", &sfs) != nil || sfs.Type != unix.PROC_SUPER_MAGIC {
		t.Skip("no procfs at /proc")
	}
	code, rep := runScanJSON(t, "/proc/self/fd")
	if code != exitFail || len(rep.Findings) == 0 {
		t.Fatalf("scan /proc/self/fd = %d, %v; want 1, magic links", code, found(rep))
	}
	for _, f := range rep.Findings {
		if f.Kind != kindMagicLink {
			t.Errorf("scan /proc/self/fd: %s %s, want only magic links", f.Kind, f.Path)
		}
	}
	if len(rep.Errors) != 0 {
		t.Errorf("errors: %v", rep.Errors)
	}
}

// TestScanErrors: exit 2 when ROOT or part of the tree cannot be read,
// with the findings still listed.
func TestScanErrors(t *testing.T) {
	dir := t.TempDir()
	code, rep := runScanJSON(t, filepath.Join(dir, "missing"))
	if code != exitError || rep.ErrorKind != "not-exist" || rep.Clean {
		t.Errorf("scan missing = %d, %+v; want 2, not-exist", code, rep)
	}
	testfs.Make(t, dir, "f")
	if code, rep := runScanJSON(t, filepath.Join(dir, "f")); code != exitError || rep.ErrorKind != "not-dir" {
		t.Errorf("scan of a file = %d, %+v; want 2, not-dir", code, rep)
	}
	if os.Geteuid() == 0 {
		return // root reads every directory
	}
	testfs.Make(t, dir, "locked/x", "ww/")
	os.Chmod(filepath.Join(dir, "ww"), 0o777)
	os.Chmod(filepath.Join(dir, "locked"), 0)
	t.Cleanup(func() { os.Chmod(filepath.Join(dir, "locked"), 0o755) })
	code, rep = runScanJSON(t, dir)
	if code != exitError || len(rep.Errors) != 1 || rep.Errors[0].Path != "locked" || rep.Errors[0].ErrorKind != "permission" {
		t.Errorf("scan with an unreadable directory = %d, errors %+v; want 2, one permission error on locked", code, rep.Errors)
	}
	if got, want := found(rep), []string{"writable ww"}; !slices.Equal(got, want) {
		t.Errorf("findings %v, want %v", got, want)
	}
}

// TestScanJSONSchema pins the names and types of the JSON fields that
// scripts read.
func TestScanJSONSchema(t *testing.T) {
	_, root := plant(t)
	_, out, _ := runCmd(t, "scan", root, "--json")
	var m map[string]any
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"root": "string", "no_xdev": "bool", "trusted_uids": "array", "trusted_gids": "array",
		"scanned": "number", "clean": "bool", "findings": "array", "errors": "array",
	}
	checkTypes(t, "report", m, want)
	fs := m["findings"].([]any)
	for _, f := range fs {
		f := f.(map[string]any)
		w := map[string]string{"kind": "string", "path": "string", "detail": "string", "mode": "string", "uid": "number", "gid": "number"}
		switch f["kind"] {
		case kindEscape, kindDangling:
			w["target"] = "string"
		case kindHardlink:
			w["nlink"] = "number"
		}
		checkTypes(t, "finding", f, w)
	}
}

func checkTypes(t *testing.T, what string, m map[string]any, want map[string]string) {
	t.Helper()
	for k, typ := range want {
		v, ok := m[k]
		var got string
		switch v.(type) {
		case string:
			got = "string"
		case bool:
			got = "bool"
		case float64:
			got = "number"
		case []any:
			got = "array"
		}
		if !ok || got != typ {
			t.Errorf("%s: %q is %T (%v), want %s", what, k, v, ok, typ)
		}
	}
	for k := range m {
		if _, ok := want[k]; !ok {
			t.Errorf("%s: unexpected field %q", what, k)
		}
	}
}

// openPTY returns both ends of a new pseudo-terminal, or skips.
func openPTY(t *testing.T) (master, tty *os.File) {
	t.Helper()
	master, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals: %v", err)
	}
	t.Cleanup(func() { master.Close() })
	fd := int(master.Fd())
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		t.Skipf("unlockpt: %v", err)
	}
	n, err := unix.IoctlGetInt(fd, unix.TIOCGPTN)
	if err != nil {
		t.Skipf("ptsname: %v", err)
	}
	tty, err = os.OpenFile("/dev/pts/"+strconv.Itoa(n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("open the terminal: %v", err)
	}
	t.Cleanup(func() { tty.Close() })
	return master, tty
}

// TestScanProgress: the progress line goes to standard error when it is
// a terminal, and never with --json or when it is not one.
func TestScanProgress(t *testing.T) {
	_, root := plant(t)
	master, tty := openPTY(t)
	for _, tc := range []struct {
		json bool
		want bool
	}{{false, true}, {true, false}} {
		args := []string{"scan", root}
		if tc.json {
			args = append(args, "--json")
		}
		var out bytes.Buffer
		run(args, &out, tty)
		// A marker after whatever the scan wrote, so the read below
		// always ends.
		tty.WriteString("END\n")
		got, err := bufio.NewReader(master).ReadString('D')
		if err != nil {
			t.Fatal(err)
		}
		has := strings.Contains(got, "entries, ")
		if has != tc.want {
			t.Errorf("pathaudit %q with a terminal on stderr: progress shown %v, want %v (%q)", args, has, tc.want, got)
		}
		if tc.want && !strings.Contains(got, "\r\x1b[K") {
			t.Errorf("pathaudit %q: the progress line is never cleared: %q", args, got)
		}
		if strings.Contains(out.String(), "entries, ") {
			t.Errorf("pathaudit %q: progress on stdout", args)
		}
	}
	// Not a terminal: nothing on stderr.
	if _, _, errOut := runCmd(t, "scan", root); errOut != "" {
		t.Errorf("pathaudit scan with stderr not a terminal: stderr %q", errOut)
	}
}
