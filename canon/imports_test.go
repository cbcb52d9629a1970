package canon_test

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestImports holds canon to its layer: of pathguard's packages it may
// import only those below it (internal/sys, internal/resolve), never
// confine or securepath, which build on it. Test files are exempt.
func TestImports(t *testing.T) {
	const module = "github.com/pathguard/pathguard/"
	allowed := map[string]bool{
		module + "internal/sys":     true,
		module + "internal/resolve": true,
	}
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if strings.HasPrefix(p, module) && !allowed[p] {
				t.Errorf("%s imports %s: canon may import only internal/sys and internal/resolve", name, p)
			}
		}
	}
}
