package within

import (
	"net/http"
	"path/filepath"
	"strings"
)

const root = "/srv/www"

func serve(w http.ResponseWriter, r *http.Request) {
	p := filepath.Join(root, r.URL.Query().Get("f"))
	if !strings.HasPrefix(p, root) { // want `strings.HasPrefix tests containment`
		http.Error(w, "forbidden", http.StatusForbidden)
		return
	}
	if strings.HasSuffix(p, ".go") {
		return
	}
	http.ServeFile(w, r, p)
}
