package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode"

	"github.com/pathguard/pathguard/internal/testfs"
)

// TestJSONEscapesTerminalControls: names an attacker chose reach the JSON
// output of both subcommands with every character a terminal could act
// on (U+009B, an 8-bit CSI; U+202E, a right-to-left override; ESC) escaped,
// and the JSON still decodes to the very same name.
func TestJSONEscapesTerminalControls(t *testing.T) {
	const evil = "a\u009b2J\u202egpj.exe\x1b[0m"
	dir := testfs.New(t, "root/")
	root := filepath.Join(dir, "root")
	if err := os.Mkdir(filepath.Join(root, evil), 0o700); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"resolve", "--json", root, evil + "/"},
		{"check", "--json", filepath.Join(root, evil)},
	} {
		_, stdout, _ := runCmd(t, args...)
		if i := strings.IndexFunc(stdout, func(r rune) bool {
			return r >= unicode.MaxASCII && !unicode.IsGraphic(r) || r == 0x1b
		}); i >= 0 {
			t.Errorf("pathaudit %s: output carries %U raw: %q", args[0], []rune(stdout[i:])[0], stdout)
		}
		var v map[string]any
		if err := json.Unmarshal([]byte(stdout), &v); err != nil {
			t.Fatalf("pathaudit %s: output is not JSON: %v\n%s", args[0], err, stdout)
		}
		if !strings.Contains(stdout, `\u009b`) || !strings.Contains(stdout, `\u202e`) {
			t.Errorf("pathaudit %s: %q lacks the escaped name", args[0], stdout)
		}
		if p, _ := v["path"].(string); !strings.Contains(p, evil) {
			t.Errorf("pathaudit %s: JSON path = %q, want it to contain %q", args[0], p, evil)
		}
	}
}
