//go:build !linux

package main

import (
	"encoding/json"
	"testing"
)

// TestCheckUnsupported: outside Linux securepath is not implemented;
// check says so and fails.
func TestCheckUnsupported(t *testing.T) {
	code, out, _ := runCmd(t, "check", t.TempDir(), "--json")
	var rep checkReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("stdout is not one JSON object: %v\n%s", err, out)
	}
	if code != exitError || rep.Secure || rep.ErrorKind != "unsupported" {
		t.Errorf("pathaudit check DIR = %d, %+v; want 2, error_kind \"unsupported\"", code, rep)
	}
}
