package resolveuse

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

const base = "/srv/data"

func stat(w http.ResponseWriter, r *http.Request) {
	p := filepath.Join(base, r.FormValue("f"))
	fi, err := os.Lstat(p)
	if err != nil || !fi.Mode().IsRegular() {
		return
	}
	os.Remove(p) // want `os.Remove uses a path from the HTTP request by name after os.Lstat checked it`
}

func resolved(w http.ResponseWriter, r *http.Request) {
	real, err := filepath.EvalSymlinks(filepath.Join(base, r.FormValue("f")))
	if err != nil || !strings.HasPrefix(real, base+"/") {
		return
	}
	f, err := os.Open(real) // want `os.Open uses a path from the HTTP request by name after filepath.EvalSymlinks checked it`
	if err == nil {
		f.Close()
	}
}

// The credential-file case: access(2), then write by name.
func saveToken(tok []byte) error {
	p := filepath.Join(os.Getenv("HOME"), ".config", "tool", "token")
	if err := syscall.Access(p, 2); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(os.Getenv("HOME"), ".config", "tool", "token"), tok, 0o600) // want `os.WriteFile uses a path from os.Getenv by name after syscall.Access checked it`
}

// True negatives: a check of the open file, a check of a fixed path,
// and a check whose result is only reported.

func held(w http.ResponseWriter, r *http.Request) {
	f, err := os.Open(filepath.Join(base, "index"))
	if err != nil {
		return
	}
	defer f.Close()
	f.Stat()
	if _, err := os.Stat("/etc/app.conf"); err == nil {
		os.ReadFile("/etc/app.conf")
	}
	if _, err := os.Stat(filepath.Join(base, r.FormValue("f"))); err != nil {
		http.NotFound(w, r)
	}
}
