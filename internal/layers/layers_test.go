package layers

import (
	"bufio"
	"errors"
	"fmt"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"
)

// policy is an import rule like the one docs/design.md's "Layers" section
// states.
type policy struct {
	module string
	// order lists the layered packages top to bottom: a package may import
	// only those strictly before it. An entry ending in "/" is a group:
	// each directory below it is a package of that layer, and packages of
	// one group may not import each other.
	order []string
	// testsOnly lists packages that hold only tests (and, at most, a
	// doc.go): their non-test files import nothing of the module, and no
	// file imports them.
	testsOnly []string
	// testHelpers lists packages that only _test.go files may import.
	// Their own non-test files import nothing of the module, or the tests
	// of the packages they help could not use them (an import cycle).
	testHelpers []string
}

// The kinds of entry in the layer list that are not layers: packages
// holding only tests, and test helpers. Everything else the list names is
// a layer, in the list's order.
var (
	testsOnly   = []string{"fuzz", "bench", "internal/layers"}
	testHelpers = []string{"internal/testfs"}
)

// modulePolicy is this module's policy: the module path of its go.mod and
// the order of docs/design.md's layer list.
func modulePolicy(t *testing.T) policy {
	t.Helper()
	root := moduleRoot(t)
	mod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	listed := layerList(t, filepath.Join(root, "docs", "design.md"))
	p := policy{module: modulePath(mod), testsOnly: testsOnly, testHelpers: testHelpers}
	for _, e := range listed {
		if !slices.Contains(testsOnly, e) && !slices.Contains(testHelpers, e) {
			p.order = append(p.order, e)
		}
	}
	return p
}

// synthetic is the policy TestCheck holds its synthetic trees to: the
// checker's rules, independent of the real list.
var synthetic = policy{
	module:      "github.com/pathguard/pathguard",
	order:       []string{"internal/sys", "internal/resolve", "canon", "confine", "securepath", "cmd/pathaudit", "examples/"},
	testsOnly:   testsOnly,
	testHelpers: testHelpers,
}

// check reads every .go file of the module tree fsys (module root at ".")
// with go/parser, imports only, and returns one line per breach of p:
// an import that goes up or sideways, a test helper or tests-only package
// imported by a non-test file, a directory of Go files the policy does not
// place. Directories the go command ignores (testdata, names starting
// with "." or "_"), vendored code and nested modules are skipped. An error means a file
// could not be read or parsed: no verdict.
func (p policy) check(fsys fs.FS) ([]string, error) {
	var breaches []string
	fset := token.NewFileSet()
	err := fs.WalkDir(fsys, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name == "." {
				return nil
			}
			base := path.Base(name)
			if base == "testdata" || base == "vendor" || strings.HasPrefix(base, ".") || strings.HasPrefix(base, "_") {
				return fs.SkipDir
			}
			if _, err := fs.Stat(fsys, path.Join(name, "go.mod")); err == nil {
				return fs.SkipDir // another module, with rules of its own
			}
			return nil
		}
		if !strings.HasSuffix(name, ".go") {
			return nil
		}
		dir := path.Dir(name)
		if !p.known(dir) {
			// Reported once per directory, for its first Go file.
			if first, _ := firstGoFile(fsys, dir); first == name {
				breaches = append(breaches, fmt.Sprintf("%s: package directory %q is not in the layer list: give it a place", name, dir))
			}
			return nil
		}
		if strings.HasSuffix(name, "_test.go") {
			return nil // tests may import anything, internal/testfs included
		}
		src, err := fs.ReadFile(fsys, name)
		if err != nil {
			return err
		}
		f, err := parser.ParseFile(fset, name, src, parser.ImportsOnly)
		if err != nil {
			return err
		}
		for _, spec := range f.Imports {
			imp, err := strconv.Unquote(spec.Path.Value)
			if err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			if b := p.edge(dir, imp); b != "" {
				breaches = append(breaches, fmt.Sprintf("%s: imports %q: %s", name, imp, b))
			}
		}
		return nil
	})
	return breaches, err
}

// known reports whether the policy places the package directory dir.
func (p policy) known(dir string) bool {
	return p.layer(dir) >= 0 || slices.Contains(p.testsOnly, dir) || slices.Contains(p.testHelpers, dir)
}

// layer returns the index in p.order of the entry that places dir, or -1.
func (p policy) layer(dir string) int {
	for i, e := range p.order {
		if dir == e || strings.HasSuffix(e, "/") && strings.HasPrefix(dir, e) {
			return i
		}
	}
	return -1
}

// edge judges an import of imp by a non-test file of the package in dir,
// and returns why it is not allowed, or "".
func (p policy) edge(dir, imp string) string {
	if imp != p.module && !strings.HasPrefix(imp, p.module+"/") {
		return "" // the standard library or another module
	}
	to := strings.TrimPrefix(strings.TrimPrefix(imp, p.module), "/")
	from, i := p.layer(dir), p.layer(to)
	switch {
	case slices.Contains(p.testHelpers, to):
		return "a test helper, importable from _test.go files only"
	case slices.Contains(p.testsOnly, to):
		return "a package that holds only tests"
	case i < 0:
		return "not a package of the layer list"
	case from < 0:
		return fmt.Sprintf("%s may not import packages of the module", dir)
	case i < from:
		return ""
	}
	return fmt.Sprintf("%s (layer %d) may import only layers above it, not %s (layer %d)", dir, from+1, to, i+1)
}

// firstGoFile returns the name of the first .go file in dir, in the order
// fs.WalkDir visits them.
func firstGoFile(fsys fs.FS, dir string) (string, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return "", err
	}
	for _, e := range entries {
		if !e.IsDir() && strings.HasSuffix(e.Name(), ".go") {
			return path.Join(dir, e.Name()), nil
		}
	}
	return "", nil
}

// moduleRoot finds the directory holding this module's go.mod, above the
// test's working directory.
func moduleRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test's directory")
		}
		dir = parent
	}
}

// TestLayers holds the module itself to docs/design.md's layer order.
func TestLayers(t *testing.T) {
	p := modulePolicy(t)
	if p.module != "github.com/pathguard/pathguard" {
		t.Fatalf("go.mod: module %q, want github.com/pathguard/pathguard", p.module)
	}
	if len(p.order) < 5 {
		t.Fatalf("docs/design.md lists %q as layers: too few to be the real list", p.order)
	}
	breaches, err := p.check(os.DirFS(moduleRoot(t)))
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range breaches {
		t.Error(b)
	}
}

// TestLayersCatchBadEdgeInRealTree is the negative control on the real
// tree: a copy of the module's Go files with one upward import added must
// fail, and the same copy without it must pass.
func TestLayersCatchBadEdgeInRealTree(t *testing.T) {
	root := moduleRoot(t)
	fsys := fstest.MapFS{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && p != root && strings.HasPrefix(d.Name(), ".") {
			return fs.SkipDir
		}
		if d.IsDir() || !(strings.HasSuffix(p, ".go") || d.Name() == "go.mod") {
			return nil
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		fsys[filepath.ToSlash(rel)] = &fstest.MapFile{Data: data}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := fsys["internal/sys/doc.go"]; !ok {
		t.Fatal("the copy has no internal/sys/doc.go: wrong module root?")
	}
	p := modulePolicy(t)
	if breaches, err := p.check(fsys); err != nil || len(breaches) != 0 {
		t.Fatalf("copy of the tree: check = %q, %v; want no breach", breaches, err)
	}
	// The lowest layer importing the highest library layer.
	fsys["internal/sys/zz_bad.go"] = &fstest.MapFile{Data: []byte("package sys\n\nimport _ \"github.com/pathguard/pathguard/securepath\"\n")}
	breaches, err := p.check(fsys)
	if err != nil {
		t.Fatal(err)
	}
	if len(breaches) != 1 || !strings.Contains(breaches[0], "internal/sys/zz_bad.go") {
		t.Fatalf("copy of the tree with internal/sys importing securepath: check = %q; want that one breach", breaches)
	}
}

// TestCheck runs the checker on synthetic trees, each with at most one
// breach, so every rule is shown to fire, and to fire alone.
func TestCheck(t *testing.T) {
	const m = "github.com/pathguard/pathguard"
	// A tree that keeps every rule, shared by the cases and extended by each.
	good := map[string]string{
		"go.mod":                            "module " + m + "\n",
		"internal/sys/sys.go":               `package sys; import ("os"; "golang.org/x/sys/unix")`,
		"internal/resolve/r.go":             `package resolve; import "` + m + `/internal/sys"`,
		"canon/c.go":                        `package canon; import ("` + m + `/internal/resolve"; "github.com/cyphar/filepath-securejoin")`,
		"confine/root.go":                   `package confine; import ("` + m + `/canon"; "` + m + `/internal/resolve"; "` + m + `/internal/sys")`,
		"confine/root_test.go":              `package confine; import ("` + m + `/internal/testfs"; "` + m + `/securepath")`,
		"securepath/check.go":               `package securepath; import "` + m + `/confine"`,
		"cmd/pathaudit/main.go":             `package main; import ("` + m + `/canon"; "` + m + `/confine"; "` + m + `/securepath")`,
		"fuzz/fuzz_test.go":                 `package fuzz; import ("` + m + `/canon"; "` + m + `/internal/testfs")`,
		"fuzz/doc.go":                       `package fuzz`,
		"internal/testfs/t.go":              `package testfs; import "testing"`,
		"internal/layers/doc.go":            `package layers`,
		"docs/README.md":                    "not Go",
		"canon/testdata/x/bad.go":           `package bad; import "` + m + `/cmd/pathaudit"`,
		"vendor/golang.org/x/sys/unix/u.go": `package unix`,
		".ci/x/bad.go":                      `package bad; import "` + m + `/cmd/pathaudit"`,
		"_old/bad.go":                       `package bad`,
		"tools/go.mod":                      "module example.com/tools\n",
		"tools/bad.go":                      `package tools; import "` + m + `/cmd/pathaudit"`,
	}
	for _, tc := range []struct {
		name string
		add  map[string]string
		want string // a substring of the one breach; "" for none
	}{
		{name: "good tree", want: ""},
		{name: "upward edge", add: map[string]string{"canon/up.go": `package canon; import "` + m + `/confine"`}, want: `canon/up.go: imports "` + m + `/confine": canon (layer 3) may import only layers above it, not confine (layer 4)`},
		{name: "lowest imports highest", add: map[string]string{"internal/sys/up.go": `package sys; import "` + m + `/securepath"`}, want: "internal/sys (layer 1)"},
		{name: "upward edge behind a build tag", add: map[string]string{"confine/x_windows.go": "//go:build windows\n\npackage confine\n\nimport \"" + m + "/securepath\"\n"}, want: "confine/x_windows.go"},
		{name: "upward edge in a grouped import with alias", add: map[string]string{"internal/resolve/z.go": "package resolve\n\nimport (\n\t\"os\"\n\tc \"" + m + "/canon\"\n)\n"}, want: "internal/resolve/z.go"},
		{name: "library imports the command", add: map[string]string{"securepath/cmd.go": `package securepath; import "` + m + `/cmd/pathaudit"`}, want: "securepath (layer 5) may import only layers above it, not cmd/pathaudit (layer 6)"},
		{name: "test helper in a non-test file", add: map[string]string{"confine/helper.go": `package confine; import "` + m + `/internal/testfs"`}, want: "a test helper, importable from _test.go files only"},
		{name: "tests-only package imported", add: map[string]string{"cmd/pathaudit/f.go": `package main; import "` + m + `/fuzz"`}, want: "a package that holds only tests"},
		{name: "unplaced package imported", add: map[string]string{"confine/ghost.go": `package confine; import "` + m + `/ghost"`}, want: "not a package of the layer list"},
		{name: "module root imported", add: map[string]string{"confine/modroot.go": `package confine; import "` + m + `"`}, want: "not a package of the layer list"},
		{name: "test helper imports the module", add: map[string]string{"internal/testfs/uses.go": `package testfs; import "` + m + `/internal/sys"`}, want: "internal/testfs may not import packages of the module"},
		{name: "tests-only package imports in a non-test file", add: map[string]string{"fuzz/seed.go": `package fuzz; import "` + m + `/canon"`}, want: "fuzz may not import packages of the module"},
		{name: "unknown package directory", add: map[string]string{"confine/internal/x/x.go": `package x`, "confine/internal/x/y.go": `package x`}, want: `package directory "confine/internal/x" is not in the layer list`},
		{name: "unknown directory with tests only", add: map[string]string{"extra/e_test.go": `package extra`}, want: `package directory "extra"`},
		{name: "Go file at the module root", add: map[string]string{"pathguard.go": `package pathguard`}, want: `package directory "."`},
		{name: "example imports the library", add: map[string]string{"examples/a/main.go": `package main; import "` + m + `/confine"`}, want: ""},
		{name: "example imports another example", add: map[string]string{"examples/a/main.go": `package main; import "` + m + `/examples/b"`, "examples/b/b.go": `package b`}, want: "examples/a (layer 7) may import only layers above it, not examples/b (layer 7)"},
		{name: "library imports an example", add: map[string]string{"confine/ex.go": `package confine; import "` + m + `/examples/b"`, "examples/b/b.go": `package b`}, want: "confine (layer 4) may import only layers above it"},
		{name: "Go file in a group directory itself", add: map[string]string{"examples/e.go": `package examples`}, want: `package directory "examples"`},
		{name: "module with a longer name is not ours", add: map[string]string{"confine/other.go": `package confine; import "` + m + `x/cmd"`}, want: ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fsys := fstest.MapFS{}
			for name, src := range good {
				fsys[name] = &fstest.MapFile{Data: []byte(src)}
			}
			for name, src := range tc.add {
				fsys[name] = &fstest.MapFile{Data: []byte(src)}
			}
			breaches, err := synthetic.check(fsys)
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case tc.want == "" && len(breaches) != 0:
				t.Errorf("check = %q, want no breach", breaches)
			case tc.want != "" && (len(breaches) != 1 || !strings.Contains(breaches[0], tc.want)):
				t.Errorf("check = %q, want one breach containing %q", breaches, tc.want)
			}
		})
	}
}

// TestCheckParseError: a file that does not parse is an error, not a pass.
func TestCheckParseError(t *testing.T) {
	fsys := fstest.MapFS{
		"go.mod":          {Data: []byte("module " + synthetic.module + "\n")},
		"confine/root.go": {Data: []byte("package confine; import (")},
	}
	if breaches, err := synthetic.check(fsys); err == nil {
		t.Errorf("check on a broken file = %q, nil; want an error", breaches)
	}
	// And a file that cannot be read is one too.
	fsys = fstest.MapFS{"canon/c.go": {Mode: fs.ModeSymlink}}
	if _, err := synthetic.check(fsys); err == nil {
		t.Errorf("check on an unreadable file = nil error; want one")
	}
}

// layerList returns the entries of the "## Layers" code block of the
// Markdown file at name: the first word of each line that does not start
// with a space.
func layerList(t *testing.T, name string) []string {
	t.Helper()
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var listed []string
	section, block := false, false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "## "):
			section = line == "## Layers"
		case section && strings.HasPrefix(line, "```"):
			if block {
				return listed
			}
			block = true
		case block && line != "" && !strings.HasPrefix(line, " "):
			listed = append(listed, strings.Fields(line)[0])
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	t.Fatalf("%s: no code block under \"## Layers\"", name)
	return nil
}

// TestDesignOrder compares docs/design.md's layer list with the one of the
// project's design brief, when that sits beside the repository
// (../shared/DESIGN.md), so the two cannot drift apart silently. Elsewhere
// it is skipped.
func TestDesignOrder(t *testing.T) {
	brief := filepath.Join(moduleRoot(t), "..", "shared", "DESIGN.md")
	if _, err := os.Stat(brief); errors.Is(err, fs.ErrNotExist) {
		t.Skipf("%s not found", brief)
	}
	want := layerList(t, brief)
	got := layerList(t, filepath.Join(moduleRoot(t), "docs", "design.md"))
	for i := range got {
		got[i] = strings.TrimSuffix(got[i], "/")
	}
	if !slices.Equal(got, want) {
		t.Errorf("docs/design.md's layer list = %q, the brief's is %q", got, want)
	}
}

// modulePath returns the module path declared in the go.mod text mod.
func modulePath(mod []byte) string {
	for line := range strings.Lines(string(mod)) {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "module "); ok {
			return strings.Trim(strings.TrimSpace(rest), `"`)
		}
	}
	return ""
}
