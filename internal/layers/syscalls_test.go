package layers

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path"
	"slices"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"
)

// syscallPackages are the packages whose functions make system calls.
var syscallPackages = []string{"golang.org/x/sys/unix", "syscall"}

// pureHelpers are functions and conversions of those packages that make
// no system call: arithmetic on their types.
var pureHelpers = map[string]bool{
	"Errno": true, "Signal": true, "NsecToTimespec": true, "NsecToTimeval": true,
	"Major": true, "Minor": true, "Mkdev": true, "ParseDirent": true,
}

// syscallHome is the one package allowed to call into syscallPackages.
const syscallHome = "internal/sys"

// syscallCalls reads every non-test .go file of the module tree fsys
// outside internal/sys and the test helpers (skipping what check skips)
// and returns one line
// per call of a function of x/sys/unix or syscall other than the pure
// helpers: every system call goes through internal/sys, where the EINTR
// rule and O_CLOEXEC live. Types and constants of those packages may be
// used anywhere.
func syscallCalls(fsys fs.FS) ([]string, error) {
	var breaches []string
	fset := token.NewFileSet()
	err := fs.WalkDir(fsys, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			base := path.Base(name)
			if name != "." && (base == "testdata" || base == "vendor" || strings.HasPrefix(base, ".") || strings.HasPrefix(base, "_")) {
				return fs.SkipDir
			}
			if _, err := fs.Stat(fsys, path.Join(name, "go.mod")); err == nil && name != "." {
				return fs.SkipDir
			}
			if name == syscallHome || slices.Contains(testHelpers, name) {
				// The test helpers are test code, importable from
				// _test.go files only: exempt as those are.
				return fs.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			return nil
		}
		src, err := fs.ReadFile(fsys, name)
		if err != nil {
			return err
		}
		f, err := parser.ParseFile(fset, name, src, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		local := map[string]string{} // the file's name for each syscall package
		for _, spec := range f.Imports {
			imp, err := strconv.Unquote(spec.Path.Value)
			if err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			for _, sp := range syscallPackages {
				if imp != sp {
					continue
				}
				n := path.Base(imp)
				if spec.Name != nil {
					n = spec.Name.Name
				}
				local[n] = imp
			}
		}
		if len(local) == 0 {
			return nil
		}
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			id, ok := sel.X.(*ast.Ident)
			if !ok {
				return true
			}
			if imp, ok := local[id.Name]; ok && !pureHelpers[sel.Sel.Name] {
				breaches = append(breaches, fmt.Sprintf("%s: calls %s.%s: system calls go through %s", fset.Position(call.Pos()), imp, sel.Sel.Name, syscallHome))
			}
			return true
		})
		return nil
	})
	return breaches, err
}

// TestSyscallsOnlyInSys holds the module to "internal/sys holds every
// system call the product makes".
func TestSyscallsOnlyInSys(t *testing.T) {
	breaches, err := syscallCalls(os.DirFS(moduleRoot(t)))
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range breaches {
		t.Error(b)
	}
}

// TestSyscallCallsCheck shows each rule of syscallCalls firing, and alone.
func TestSyscallCallsCheck(t *testing.T) {
	good := map[string]string{
		"internal/sys/sys.go":   `package sys; import "golang.org/x/sys/unix"; func F() { unix.Mkdirat(0, "", 0) }`,
		"confine/types.go":      `package confine; import ("golang.org/x/sys/unix"; "syscall"); var st unix.Stat_t; var e = syscall.Errno(1); var f = unix.O_PATH; func T() { _ = unix.NsecToTimespec(1) }`,
		"confine/calls_test.go": `package confine; import "golang.org/x/sys/unix"; func T() { unix.Unlinkat(0, "", 0) }`,
		"cmd/x/testdata/a.go":   `package a; import "syscall"; func T() { syscall.Getpid() }`,
		"tools/go.mod":          "module example.com/tools\n",
		"tools/t.go":            `package tools; import "syscall"; func T() { syscall.Getpid() }`,
		"internal/testfs/x.go":  `package testfs; import "golang.org/x/sys/unix"; func X() { unix.Renameat2(0, "", 0, "", 0) }`,
	}
	for _, tc := range []struct {
		name string
		add  map[string]string
		want string
	}{
		{name: "good tree"},
		{name: "unix call", add: map[string]string{"confine/bad.go": `package confine; import "golang.org/x/sys/unix"; func B() { unix.Mkdirat(0, "", 0) }`}, want: "confine/bad.go:1:61: calls golang.org/x/sys/unix.Mkdirat"},
		{name: "syscall call", add: map[string]string{"securepath/bad.go": `package securepath; import "syscall"; func B() { _ = syscall.Fsync(0) }`}, want: "calls syscall.Fsync"},
		{name: "renamed import", add: map[string]string{"internal/resolve/bad.go": `package resolve; import u "golang.org/x/sys/unix"; func B() { u.Fsync(0) }`}, want: "calls golang.org/x/sys/unix.Fsync"},
		{name: "call inside a closure", add: map[string]string{"confine/bad.go": `package confine; import "golang.org/x/sys/unix"; var f = func() error { return unix.Fsync(0) }`}, want: "unix.Fsync"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fsys := fstest.MapFS{}
			for name, src := range good {
				fsys[name] = &fstest.MapFile{Data: []byte(src)}
			}
			for name, src := range tc.add {
				fsys[name] = &fstest.MapFile{Data: []byte(src)}
			}
			breaches, err := syscallCalls(fsys)
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case tc.want == "" && len(breaches) != 0:
				t.Errorf("syscallCalls = %q, want no breach", breaches)
			case tc.want != "" && (len(breaches) != 1 || !strings.Contains(breaches[0], tc.want)):
				t.Errorf("syscallCalls = %q, want one breach containing %q", breaches, tc.want)
			}
		})
	}
}
