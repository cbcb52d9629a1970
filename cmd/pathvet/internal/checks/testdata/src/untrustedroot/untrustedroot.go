package untrustedroot

import (
	"archive/tar"
	"net/http"
	"os"
	"path/filepath"

	"github.com/pathguard/pathguard/confine"
)

const base = "/srv/tenants"

func tenant(w http.ResponseWriter, r *http.Request) {
	root, err := os.OpenRoot(r.FormValue("dir")) // want `os.OpenRoot opens a directory named by the HTTP request`
	if err != nil {
		return
	}
	root.Close()
	confine.OpenRoot(filepath.Join(base, r.PathValue("tenant"))) // want `confine.OpenRoot opens a directory named by the HTTP request`
}

func fromArchive(hdr *tar.Header) {
	os.DirFS(hdr.Name) // want `os.DirFS opens a directory named by tar header Name`
}

// True negatives: a directory the program or the invoking user chose,
// and a tenant name checked to be one local component.

func negatives(w http.ResponseWriter, r *http.Request) {
	os.OpenRoot(base)
	os.OpenRoot(os.Args[1])
	os.OpenRoot(os.Getenv("DATA_DIR"))
	t := r.PathValue("tenant")
	if !filepath.IsLocal(t) {
		return
	}
	confine.OpenRoot(filepath.Join(base, t))
}
