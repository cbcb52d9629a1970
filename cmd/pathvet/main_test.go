package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The command, built once, run the two ways the documentation gives:
// standalone (text and -json) and as go vet's tool, on a small module
// with one unsafe handler and one safe one.

const vulnerable = `package main

import (
	"net/http"
	"os"
	"path/filepath"
)

func handler(w http.ResponseWriter, r *http.Request) {
	b, _ := os.ReadFile(filepath.Join("/srv/files", r.FormValue("f")))
	w.Write(b)
}

func safe(w http.ResponseWriter, r *http.Request) {
	name := r.FormValue("f")
	if !filepath.IsLocal(name) {
		return
	}
	b, _ := os.ReadFile(filepath.Join("/srv/files", name))
	w.Write(b)
}

func main() {
	http.HandleFunc("/a", handler)
	http.HandleFunc("/b", safe)
}
`

func TestCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the command and runs the go command")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "pathvet")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	mod := filepath.Join(dir, "m")
	write(t, filepath.Join(mod, "go.mod"), "module example.com/m\n\ngo 1.25\n")
	write(t, filepath.Join(mod, "main.go"), vulnerable)
	env := append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=mod")
	run := func(name string, args ...string) (string, string, int) {
		cmd := exec.Command(name, args...)
		cmd.Dir, cmd.Env = mod, env
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		code := 0
		if ee := (*exec.ExitError)(nil); errors.As(err, &ee) {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatalf("%s %v: %v", name, args, err)
		}
		return stdout.String(), stderr.String(), code
	}
	const want = "main.go:10:21: untrusted name from the HTTP request reaches os.ReadFile"

	t.Run("standalone", func(t *testing.T) {
		_, stderr, code := run(bin, "./...")
		if code != 3 || !strings.Contains(stderr, want) || strings.Count(stderr, "reaches") != 1 {
			t.Errorf("pathvet ./... = exit %d, stderr:\n%s\nwant exit 3 and one report %q", code, stderr, want)
		}
	})
	t.Run("json", func(t *testing.T) {
		stdout, stderr, code := run(bin, "-json", "./...")
		var got map[string]map[string][]struct {
			Posn    string `json:"posn"`
			Message string `json:"message"`
		}
		if err := json.Unmarshal([]byte(stdout), &got); err != nil {
			t.Fatalf("pathvet -json: exit %d, %v\nstdout:\n%s\nstderr:\n%s", code, err, stdout, stderr)
		}
		ds := got["example.com/m"]["pathinject"]
		if len(ds) != 1 || !strings.HasSuffix(ds[0].Posn, "main.go:10:21") {
			t.Errorf("pathvet -json: pathinject reports %+v, want one at main.go:10:21", ds)
		}
	})
	t.Run("silent", func(t *testing.T) {
		write(t, filepath.Join(mod, "main.go"), strings.Replace(vulnerable, "r.FormValue(\"f\")))\n\tw.Write", "\"index.html\"))\n\tw.Write", 1))
		defer write(t, filepath.Join(mod, "main.go"), vulnerable)
		if stdout, stderr, code := run(bin, "./..."); code != 0 || stdout != "" || stderr != "" {
			t.Errorf("pathvet ./... on safe code = exit %d, stdout %q, stderr %q; want exit 0 and no output", code, stdout, stderr)
		}
		if _, stderr, code := run("go", "vet", "-vettool="+bin, "./..."); code != 0 || stderr != "" {
			t.Errorf("go vet -vettool on safe code = exit %d, stderr %q; want exit 0 and no output", code, stderr)
		}
	})
	t.Run("vettool", func(t *testing.T) {
		_, stderr, code := run("go", "vet", "-vettool="+bin, "./...")
		if code == 0 || !strings.Contains(stderr, want) {
			t.Errorf("go vet -vettool = exit %d, stderr:\n%s\nwant a failure with %q", code, stderr, want)
		}
	})
}

func write(t *testing.T, name, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(name, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
}
