package pathinject

import (
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/pathguard/pathguard/canon"
	"github.com/pathguard/pathguard/confine"
)

const base = "/srv/files"

var dataDir = flag.String("data", "/var/lib/app", "data directory")

// True positives.

func query(w http.ResponseWriter, r *http.Request) {
	name := r.URL.Query().Get("name")
	b, _ := os.ReadFile(filepath.Join(base, name)) // want `untrusted name from the HTTP request reaches os.ReadFile`
	w.Write(b)
}

func form(w http.ResponseWriter, r *http.Request) {
	os.Remove(base + "/" + r.FormValue("f")) // want `reaches os.Remove`
}

func sprintf(w http.ResponseWriter, r *http.Request) {
	p := fmt.Sprintf("%s/%s.txt", base, r.PathValue("id"))
	os.WriteFile(p, nil, 0o644) // want `reaches os.WriteFile`
}

func urlPath(w http.ResponseWriter, r *http.Request) {
	f, _ := os.Create(path.Join(base, r.URL.Path)) // want `reaches os.Create`
	f.Close()
}

func header(w http.ResponseWriter, r *http.Request) {
	os.MkdirAll(filepath.Join(base, r.Header.Get("X-Dir")), 0o755) // want `reaches os.MkdirAll`
}

func serve(w http.ResponseWriter, r *http.Request) {
	http.ServeFile(w, r, filepath.Join(base, r.URL.Query().Get("f"))) // want `reaches http.ServeFile`
}

// Clean, Abs, EvalSymlinks and HasPrefix do not make a name safe.
func cleaned(w http.ResponseWriter, r *http.Request) {
	p := filepath.Join(base, filepath.Clean(r.FormValue("f")))
	if !strings.HasPrefix(p, base) {
		return
	}
	real, err := filepath.EvalSymlinks(p)
	if err != nil {
		return
	}
	abs, _ := filepath.Abs(real)
	os.Chmod(abs, 0o600) // want `reaches os.Chmod`
}

// Through functions of the package.
func under(name string) string { return filepath.Join(base, name) }

type store struct{ dir string }

func (s *store) path(name string) string { return filepath.Join(s.dir, name) }

func helpers(w http.ResponseWriter, r *http.Request) {
	name := r.FormValue("f")
	os.Chtimes(under(name), time.Time{}, time.Time{}) // want `reaches os.Chtimes`
	s := &store{dir: base}
	os.Rename(s.path(name), s.path("old")) // want `reaches os.Rename`
}

type upload struct {
	Name string
	Size int
}

func decoded(w http.ResponseWriter, r *http.Request) {
	var u upload
	u.Name = r.FormValue("name")
	u.Size = 1
	save(&u)
}

func save(u *upload) {
	os.Symlink("target", filepath.Join(base, u.Name)) // want `reaches os.Symlink`
}

func args() {
	os.Chown(os.Args[1], 0, 0)                        // want `untrusted name from os.Args reaches os.Chown`
	os.Link(flag.Arg(0), "x")                         // want `from flag.Arg reaches os.Link`
	os.Mkdir(*dataDir+"/sub", 0o755)                  // want `from flag.String reaches os.Mkdir`
	os.OpenFile(os.Getenv("LOGFILE"), os.O_WRONLY, 0) // want `from os.Getenv reaches os.OpenFile`
}

func flagVar() {
	var out string
	flag.StringVar(&out, "out", "", "output")
	flag.Parse()
	os.RemoveAll(out) // want `from flag.StringVar reaches os.RemoveAll`
}

// True negatives.

func isLocal(w http.ResponseWriter, r *http.Request) {
	name := r.FormValue("f")
	if !filepath.IsLocal(name) {
		http.Error(w, "bad name", http.StatusBadRequest)
		return
	}
	os.ReadFile(filepath.Join(base, name))
}

func canonChecks(w http.ResponseWriter, r *http.Request) {
	name := r.FormValue("f")
	if canon.IsLocal(name) {
		os.Open(filepath.Join(base, name))
	}
	p := filepath.Join(base, r.FormValue("g"))
	if !canon.Within(base, p) {
		return
	}
	os.Open(p)
}

func validate(name string) error {
	if !filepath.IsLocal(name) {
		return errors.New("bad name")
	}
	return nil
}

func validated(w http.ResponseWriter, r *http.Request) {
	name := r.FormValue("f")
	if err := validate(name); err != nil {
		return
	}
	os.Remove(filepath.Join(base, name))
}

func roots(w http.ResponseWriter, r *http.Request) {
	name := r.FormValue("f")
	root, err := os.OpenRoot(base)
	if err != nil {
		return
	}
	defer root.Close()
	root.Open(name)
	cr, _ := confine.OpenRoot(base)
	cr.WriteFile(name, nil, 0o600)
	j, _ := canon.Join(base, name)
	os.Open(j)
}

func constants() {
	os.ReadFile("/etc/app.conf")
	os.Open(filepath.Join(base, "index.html"))
}

func numbers(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.Atoi(r.FormValue("id"))
	if err != nil {
		return
	}
	os.Open(fmt.Sprintf("%s/%d.json", base, id))
}

type config struct{ Dir string }

var cfg = config{Dir: "/var/lib/app"}

func trusted(w http.ResponseWriter, r *http.Request) {
	os.WriteFile(filepath.Join(cfg.Dir, "state"), nil, 0o600)
}

// Clean("/" + name) cannot climb: joined under a directory it stays
// there (the idiom of http.Dir); alone it is any absolute path.
func rootedClean(w http.ResponseWriter, r *http.Request) {
	name := r.FormValue("f")
	os.Open(filepath.Join(base, filepath.Clean("/"+name)))
	os.Open(path.Join(base, "static", path.Clean("/"+name)))
	os.Open(filepath.Clean("/" + name))                          // want `reaches os.Open`
	os.Open(path.Join(r.FormValue("dir"), path.Clean("/"+name))) // want `reaches os.Open`
}
