package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/pathguard/pathguard/internal/testfs"
)

// runCheckJSON runs check with --json appended and decodes its report.
func runCheckJSON(t *testing.T, args ...string) (int, checkReport) {
	t.Helper()
	code, out, errOut := runCmd(t, append(append([]string{"check"}, args...), "--json")...)
	var rep checkReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("pathaudit check %q: stdout is not one JSON object: %v\nstdout: %s\nstderr: %s", args, err, out, errOut)
	}
	return code, rep
}

// secureTempDir returns a fresh directory whose ancestors are secure for
// the default policy, or skips the test where the machine's temporary
// directory is not (then nothing below it can be).
func secureTempDir(t *testing.T) string {
	t.Helper()
	dir := testfs.New(t, "base/")
	base := filepath.Join(dir, "base")
	if code, rep := runCheckJSON(t, base); code != exitOK {
		t.Skipf("the temporary directory is not secure here, nothing below it can be: %s", rep.Error)
	}
	return base
}

func TestCheck(t *testing.T) {
	base := secureTempDir(t)
	testfs.Make(t, base, "ok/", "open/", "open/below/", "group/", "sticky/", "sticky/mine/", "link => ok")
	for name, mode := range map[string]os.FileMode{"open": 0o777, "group": 0o775, "sticky": 0o777 | os.ModeSticky} {
		if err := os.Chmod(filepath.Join(base, name), mode); err != nil {
			t.Fatal(err)
		}
	}
	gid := strconv.Itoa(os.Getegid())
	for _, tc := range []struct {
		path   string
		flags  []string
		secure bool
		bad    string // the directory judged insecure, when not secure
		why    string // in the secure target's reason
		reason string
	}{
		{path: "ok", secure: true, why: "only the owner may write", reason: "0755, owned by us, all the way down"},
		{path: "open", bad: "open", reason: "world-writable target"},
		{path: "open/below", bad: "open", reason: "world-writable ancestor, not sticky"},
		{path: "group", bad: "group", reason: "group-writable, group not trusted"},
		{path: "group", flags: []string{"--trust-gid", gid}, secure: true, why: "writable by trusted group " + gid, reason: "group-writable by a trusted group"},
		{path: "group", flags: []string{"--trust-gid=" + gid + ",12345"}, secure: true, reason: "a list of trusted groups"},
		{path: "sticky", bad: "sticky", reason: "sticky does not help the target itself"},
		{path: "sticky/mine", secure: true, reason: "sticky ancestor, our entry in it"},
		{path: "link", secure: true, reason: "a link to a secure directory, walked"},
	} {
		args := append([]string{filepath.Join(base, tc.path)}, tc.flags...)
		code, rep := runCheckJSON(t, args...)
		for _, e := range rep.Entries {
			if e.Reason == "" {
				t.Errorf("%s: pathaudit check %q: %s is %s with no reason", tc.reason, args, e.Path, e.Verdict)
			}
		}
		if tc.secure {
			if code != exitOK || !rep.Secure || rep.Error != "" || len(rep.Entries) == 0 {
				t.Errorf("%s: pathaudit check %q = %d, %+v; want 0, secure", tc.reason, args, code, rep)
			}
			if e := rep.Entries[len(rep.Entries)-1]; tc.why != "" && !strings.Contains(e.Reason, tc.why) {
				t.Errorf("%s: pathaudit check %q: reason %q, want it to say %q", tc.reason, args, e.Reason, tc.why)
			}
			continue
		}
		if code != exitFail || rep.Secure || rep.ErrorKind != "insecure" {
			t.Errorf("%s: pathaudit check %q = %d, %+v; want 1, insecure", tc.reason, args, code, rep)
			continue
		}
		var insecure []string
		for _, e := range rep.Entries {
			if e.Verdict == "insecure" {
				insecure = append(insecure, e.Path)
			}
		}
		if want := filepath.Join(base, tc.bad); len(insecure) != 1 || insecure[0] != want {
			t.Errorf("%s: pathaudit check %q: insecure entries %q, want [%q]", tc.reason, args, insecure, want)
		}
	}
}

// TestCheckOwner: a directory owned by another user is insecure unless
// that user is trusted. Changing the owner needs root.
func TestCheckOwner(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("chown needs root")
	}
	base := secureTempDir(t)
	testfs.Make(t, base, "theirs/")
	if err := os.Chown(filepath.Join(base, "theirs"), 54321, 54321); err != nil {
		t.Fatal(err)
	}
	target := filepath.Join(base, "theirs")
	if code, rep := runCheckJSON(t, target); code != exitFail || rep.ErrorKind != "insecure" {
		t.Errorf("pathaudit check %q = %d, %+v; want 1, insecure", target, code, rep)
	}
	if code, rep := runCheckJSON(t, target, "--trust-uid", "54321"); code != exitOK || !rep.Secure {
		t.Errorf("pathaudit check %q --trust-uid 54321 = %d, %+v; want 0, secure", target, code, rep)
	}
}

func TestCheckText(t *testing.T) {
	base := secureTempDir(t)
	testfs.Make(t, base, "ok/", "open/")
	if err := os.Chmod(filepath.Join(base, "open"), 0o777); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCmd(t, "check", filepath.Join(base, "ok"))
	if code != exitOK || errOut != "" || !strings.HasSuffix(out, "result:  secure\n") || !strings.Contains(out, "secure   drwxr-xr-x  0755") {
		t.Errorf("pathaudit check ok = %d, stdout %q, stderr %q; want 0 and a secure table", code, out, errOut)
	}
	code, out, _ = runCmd(t, "check", filepath.Join(base, "open"))
	if code != exitFail || !strings.Contains(out, "insecure drwxrwxrwx  0777") || !strings.Contains(out, "result:  check ") {
		t.Errorf("pathaudit check open = %d, stdout %q; want 1 and an insecure line", code, out)
	}
}

// TestCheckErrors: a path that cannot be walked is an I/O error (2), with
// no entries, never a verdict.
func TestCheckErrors(t *testing.T) {
	dir := testfs.New(t, "f=x", "loop => loop")
	for _, tc := range []struct{ path, kind string }{
		{filepath.Join(dir, "missing"), "not-exist"},
		{filepath.Join(dir, "f"), "not-dir"},
		{filepath.Join(dir, "loop"), "loop"},
	} {
		code, rep := runCheckJSON(t, tc.path)
		if code != exitError || rep.Secure || rep.ErrorKind != tc.kind || len(rep.Entries) != 0 {
			t.Errorf("pathaudit check %q = %d, %+v; want 2, error_kind %q, no entries", tc.path, code, rep, tc.kind)
		}
	}
}

// TestCheckRelative: a relative PATH is read against the working
// directory, as the auditor means it.
func TestCheckRelative(t *testing.T) {
	base := secureTempDir(t)
	t.Chdir(base)
	code, rep := runCheckJSON(t, ".")
	if code != exitOK || rep.Path != base {
		t.Errorf("pathaudit check . in %s = %d, %+v; want 0, path %q", base, code, rep, base)
	}
}
