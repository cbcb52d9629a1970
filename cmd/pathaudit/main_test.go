package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// runCmd runs the command in-process and returns its exit status and
// outputs.
func runCmd(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

// runJSON runs the command with --json appended and decodes its report.
func runJSON(t *testing.T, args ...string) (int, resolveReport) {
	t.Helper()
	code, out, errOut := runCmd(t, append(args, "--json")...)
	var rep resolveReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("pathaudit %q: stdout is not one JSON object: %v\nstdout: %s\nstderr: %s", args, err, out, errOut)
	}
	return code, rep
}

func TestUsage(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		args []string
		want int
	}{
		{nil, exitUsage},
		{[]string{"frobnicate"}, exitUsage},
		{[]string{"resolve"}, exitUsage},
		{[]string{"resolve", dir}, exitUsage},
		{[]string{"resolve", dir, "a", "b"}, exitUsage},
		{[]string{"resolve", dir, "a", "--bogus"}, exitUsage},
		{[]string{"resolve", dir, "a", "--json=yes"}, exitUsage},
		{[]string{"resolve", dir, "a", "--resolver"}, exitUsage},
		{[]string{"resolve", dir, "a", "--resolver", "magic"}, exitUsage},
		{[]string{"resolve", dir, "a", "--resolver="}, exitUsage},
		{[]string{"-h"}, exitOK},
		{[]string{"--help"}, exitOK},
		{[]string{"resolve", "-h"}, exitOK},
		{[]string{"resolve", dir, "a", "--help"}, exitOK},
		{[]string{"resolve", dir, "a", "--trust-uid", "0"}, exitUsage},
		{[]string{"check"}, exitUsage},
		{[]string{"check", dir, dir}, exitUsage},
		{[]string{"check", dir, "--in-root"}, exitUsage},
		{[]string{"check", dir, "--trust-uid"}, exitUsage},
		{[]string{"check", dir, "--trust-uid", "me"}, exitUsage},
		{[]string{"check", dir, "--trust-gid", "-1"}, exitUsage},
		{[]string{"check", dir, "--trust-gid", "1,,2"}, exitUsage},
		{[]string{"check", dir, "--trust-uid", "99999999999"}, exitUsage},
		{[]string{"check", "-h"}, exitOK},
	} {
		code, out, errOut := runCmd(t, tc.args...)
		if code != tc.want {
			t.Errorf("pathaudit %q = %d, want %d", tc.args, code, tc.want)
		}
		if tc.want == exitOK {
			if !strings.HasPrefix(out, "usage: pathaudit") || errOut != "" {
				t.Errorf("pathaudit %q: stdout %q, stderr %q; want the usage on stdout", tc.args, out, errOut)
			}
			continue
		}
		if out != "" || !strings.Contains(errOut, "usage") {
			t.Errorf("pathaudit %q: stdout %q, stderr %q; want nothing on stdout and a pointer to the usage on stderr", tc.args, out, errOut)
		}
	}
}

// TestJSONAlways: with --json anywhere among the arguments, stdout holds
// exactly one JSON object whatever happens: usage errors and help
// included, with the exit status unchanged.
func TestJSONAlways(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		args []string
		want int
		key  string // a field the object must have
	}{
		{[]string{"frobnicate", "--json"}, exitUsage, "error_kind"},
		{[]string{"--json"}, exitUsage, "error_kind"},
		{[]string{"resolve", dir, "--json"}, exitUsage, "error_kind"},
		{[]string{"resolve", dir, "a", "--bogus", "--json"}, exitUsage, "error_kind"},
		{[]string{"resolve", dir, "a", "--resolver", "magic", "--json"}, exitUsage, "error_kind"},
		{[]string{"check", dir, "--trust-uid", "me", "--json"}, exitUsage, "error_kind"},
		{[]string{"scan", "--json"}, exitUsage, "error_kind"},
		{[]string{"scan", dir, "--trust-gid=x", "--json"}, exitUsage, "error_kind"},
		{[]string{"resolve", "--json", "-h"}, exitOK, "help"},
		{[]string{"scan", "--help", "--json"}, exitOK, "help"},
		{[]string{"--help", "--json"}, exitOK, "help"},
	} {
		code, out, _ := runCmd(t, tc.args...)
		var m map[string]any
		dec := json.NewDecoder(strings.NewReader(out))
		if err := dec.Decode(&m); err != nil || dec.More() {
			t.Errorf("pathaudit %q: stdout is not one JSON object (%v): %q", tc.args, err, out)
			continue
		}
		if code != tc.want {
			t.Errorf("pathaudit %q = %d, want %d", tc.args, code, tc.want)
		}
		if _, ok := m[tc.key]; !ok {
			t.Errorf("pathaudit %q: JSON %v lacks %q", tc.args, m, tc.key)
		}
	}
}

// TestHelpPerCommand: each subcommand's help lists only its own flags.
func TestHelpPerCommand(t *testing.T) {
	for cmd, tc := range map[string]struct{ has, lacks []string }{
		"resolve": {[]string{"--in-root", "--trace", "--resolver"}, []string{"--trust-uid", "--no-xdev          list"}},
		"check":   {[]string{"--trust-uid", "--trust-gid"}, []string{"--in-root", "--trace", "--no-xdev"}},
		"scan":    {[]string{"--no-xdev", "--trust-uid"}, []string{"--in-root", "--trace", "--resolver"}},
	} {
		_, out, _ := runCmd(t, cmd, "-h")
		for _, f := range tc.has {
			if !strings.Contains(out, f) {
				t.Errorf("pathaudit %s -h lacks %s", cmd, f)
			}
		}
		for _, f := range tc.lacks {
			if strings.Contains(out, f) {
				t.Errorf("pathaudit %s -h mentions %s", cmd, f)
			}
		}
	}
}
