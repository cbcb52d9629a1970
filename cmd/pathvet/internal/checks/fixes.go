package checks

import (
	"bytes"
	"go/ast"
	"go/format"
	"go/token"
	"strconv"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/ssa"
)

// The suggested fixes are offered only where the rewrite is mechanical
// and keeps the code compiling: the call is written as the rule expects
// (os.Open(filepath.Join(...)), strings.HasPrefix(...)) with the
// packages named as the file imports them.

// callAt returns the call expression whose opening parenthesis is at pos
// (the position SSA gives a call) and the file it is in.
func (e *Flow) callAt(pos token.Pos) (*ast.CallExpr, *ast.File) {
	for _, f := range e.Pass.Files {
		if pos < f.FileStart || pos >= f.FileEnd {
			continue
		}
		var found *ast.CallExpr
		ast.Inspect(f, func(n ast.Node) bool {
			if found != nil || n == nil || pos < n.Pos() || pos >= n.End() {
				return false
			}
			if c, ok := n.(*ast.CallExpr); ok && c.Lparen == pos {
				found = c
				return false
			}
			return true
		})
		return found, f
	}
	return nil, nil
}

// qualified reports whether fun is pkg.name, with pkg the local name of
// the import path in f, and returns that local name.
func qualified(f *ast.File, fun ast.Expr, path, name string) (string, bool) {
	sel, ok := fun.(*ast.SelectorExpr)
	if !ok || sel.Sel.Name != name {
		return "", false
	}
	id, ok := sel.X.(*ast.Ident)
	if !ok {
		return "", false
	}
	local, ok := importName(f, path)
	return local, ok && local == id.Name
}

// importName is the name file f gives the import of path.
func importName(f *ast.File, path string) (string, bool) {
	for _, im := range f.Imports {
		p, err := strconv.Unquote(im.Path.Value)
		if err != nil || p != path {
			continue
		}
		if im.Name != nil {
			return im.Name.Name, im.Name.Name != "_" && im.Name.Name != "."
		}
		if i := lastSlash(p); i >= 0 {
			p = p[i+1:]
		}
		return p, true
	}
	return "", false
}

func lastSlash(s string) int {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == '/' {
			return i
		}
	}
	return -1
}

func (e *Flow) src(n ast.Node) string {
	var b bytes.Buffer
	if err := format.Node(&b, e.Pass.Fset, n); err != nil {
		return ""
	}
	return b.String()
}

// openInRootFix rewrites os.Open(filepath.Join(base, name...)) to
// os.OpenInRoot(base, name...): the directory the program chose becomes a
// Root and the untrusted rest is resolved beneath it, so ".." and
// symlinks cannot leave it. Offered only when base itself is trusted.
func (e *Flow) openInRootFix(s site, arg ssa.Value) []analysis.SuggestedFix {
	if s.name != "os.Open" {
		return nil
	}
	jc, ok := arg.(*ssa.Call)
	if !ok || funcName(jc.Common()) != "path/filepath.Join" || len(jc.Call.Args) != 1 {
		return nil
	}
	call, file := e.callAt(s.call.Pos())
	if call == nil || len(call.Args) != 1 {
		return nil
	}
	osName, ok := qualified(file, call.Fun, "os", "Open")
	if !ok {
		return nil
	}
	join, ok := call.Args[0].(*ast.CallExpr)
	if !ok || join.Ellipsis.IsValid() || len(join.Args) < 2 {
		return nil
	}
	fpName, ok := qualified(file, join.Fun, "path/filepath", "Join")
	if !ok {
		return nil
	}
	// The directory must be the program's choice: the first element of
	// the join, with no untrusted data in it.
	if v := joinElem(jc, 0); v == nil || e.Query(v, s.call.Block(), Untrusted, true) != nil {
		return nil
	}
	rest := e.src(join.Args[1])
	if len(join.Args) > 2 {
		rest = fpName + ".Join("
		for i, a := range join.Args[1:] {
			if i > 0 {
				rest += ", "
			}
			rest += e.src(a)
		}
		rest += ")"
	}
	text := osName + ".OpenInRoot(" + e.src(join.Args[0]) + ", " + rest + ")"
	return []analysis.SuggestedFix{{
		Message: "open beneath the directory with os.OpenInRoot",
		TextEdits: []analysis.TextEdit{{
			Pos:     call.Pos(),
			End:     call.End(),
			NewText: []byte(text),
		}},
	}}
}

// joinElem is element i of a variadic call's argument slice (the
// array SSA builds for filepath.Join(a, b)), or nil.
func joinElem(c *ssa.Call, i int) ssa.Value {
	sl, ok := c.Call.Args[0].(*ssa.Slice)
	if !ok {
		return nil
	}
	arr, ok := sl.X.(*ssa.Alloc)
	if !ok {
		return nil
	}
	for _, ref := range *arr.Referrers() {
		ia, ok := ref.(*ssa.IndexAddr)
		if !ok {
			continue
		}
		k, ok := ia.Index.(*ssa.Const)
		if !ok || k.Int64() != int64(i) {
			continue
		}
		for _, r := range *ia.Referrers() {
			if st, ok := r.(*ssa.Store); ok && st.Addr == ia {
				return st.Val
			}
		}
	}
	return nil
}

// withinFix rewrites strings.HasPrefix(p, dir) to canon.Within(dir, p),
// which compares whole components, and adds canon's import when the file
// lacks it.
func (e *Flow) withinFix(s site) []analysis.SuggestedFix {
	call, file := e.callAt(s.call.Pos())
	if call == nil || len(call.Args) != 2 {
		return nil
	}
	if _, ok := qualified(file, call.Fun, "strings", "HasPrefix"); !ok {
		return nil
	}
	var edits []analysis.TextEdit
	canonName, ok := importName(file, canonPkg)
	if !ok {
		canonName = "canon"
		edit, ok := addImport(file, canonPkg)
		if !ok {
			return nil
		}
		edits = append(edits, edit)
	}
	edits = append(edits, analysis.TextEdit{
		Pos:     call.Pos(),
		End:     call.End(),
		NewText: []byte(canonName + ".Within(" + e.src(call.Args[1]) + ", " + e.src(call.Args[0]) + ")"),
	})
	return []analysis.SuggestedFix{{
		Message:   "compare whole path components with canon.Within",
		TextEdits: edits,
	}}
}

// addImport inserts an import of path into the first parenthesized
// import declaration of f.
func addImport(f *ast.File, path string) (analysis.TextEdit, bool) {
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.IMPORT || !g.Lparen.IsValid() {
			continue
		}
		return analysis.TextEdit{
			Pos:     g.Rparen,
			End:     g.Rparen,
			NewText: []byte("\t" + strconv.Quote(path) + "\n"),
		}, true
	}
	return analysis.TextEdit{}, false
}
