package prefixcheck

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
)

const root = "/srv/www"

func serve(w http.ResponseWriter, r *http.Request) {
	p := filepath.Join(root, r.URL.Query().Get("f"))
	if !strings.HasPrefix(p, root) { // want `strings.HasPrefix tests containment of a path from the HTTP request by string prefix`
		http.Error(w, "forbidden", http.StatusForbidden)
		return
	}
	http.ServeFile(w, r, p)
}

func resolved(w http.ResponseWriter, r *http.Request) {
	p, err := filepath.EvalSymlinks(filepath.Join(root, r.FormValue("f")))
	if err != nil {
		return
	}
	if !strings.HasPrefix(p, root+string(filepath.Separator)) { // want `strings.HasPrefix tests containment`
		return
	}
	os.Open(p)
}

func abs(dir string) bool {
	a, err := filepath.Abs(os.Args[1])
	if err != nil {
		return false
	}
	return strings.HasPrefix(a, dir) // want `from os.Args by string prefix`
}

// True negatives: prefixes that are not containment checks, and paths
// that carry no untrusted data.

func negatives(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/api/") {
		return
	}
	name := r.FormValue("f")
	if strings.HasPrefix(name, "-") || strings.HasPrefix(name, ".") {
		return
	}
	p := filepath.Join(root, "static")
	if strings.HasPrefix(p, root) {
		return
	}
	if strings.HasPrefix(filepath.Clean(name), "/") {
		return
	}
}
