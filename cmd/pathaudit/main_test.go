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
