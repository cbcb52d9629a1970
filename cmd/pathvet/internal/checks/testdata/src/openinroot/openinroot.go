package openinroot

import (
	"net/http"
	"os"
	"path/filepath"
)

const base = "/srv/files"

func download(w http.ResponseWriter, r *http.Request) {
	f, err := os.Open(filepath.Join(base, r.URL.Query().Get("name"))) // want `reaches os.Open`
	if err != nil {
		http.NotFound(w, r)
		return
	}
	defer f.Close()
	g, err := os.Open(filepath.Join(base, "users", r.FormValue("user"))) // want `reaches os.Open`
	if err != nil {
		return
	}
	g.Close()
	// The directory itself is untrusted: no mechanical fix.
	os.Open(filepath.Join(r.FormValue("dir"), "index")) // want `reaches os.Open`
}
