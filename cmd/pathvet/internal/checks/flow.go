package checks

import (
	"fmt"
	"go/constant"
	"go/token"
	"go/types"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/analysis/passes/buildssa"
	"golang.org/x/tools/go/ssa"
)

// FlowAnalyzer builds, once per package, the index the rules' taint queries
// run on. Its result is a *Flow.
var FlowAnalyzer = &analysis.Analyzer{
	Name:       "pathflow",
	Doc:        "indexes a package's SSA form for the taint queries of the pathvet rules",
	Requires:   []*analysis.Analyzer{buildssa.Analyzer},
	Run:        runFlow,
	ResultType: reflect.TypeFor[*Flow](),
}

// The taint is intra-package and flow-insensitive for memory (a store
// anywhere in the package reaches every load of the same place), but
// careful where precision matters: values are SSA values, so a name is
// tainted only through the operations that really built it; numbers and
// booleans carry no taint; a lexical check (filepath.IsLocal,
// canon.IsLocal, canon.Within, or a package function that returns true,
// or a nil error, only after one) sanitizes a value only at the points
// its success branch dominates; calls to functions of the package are
// followed into their bodies with the call site as context (at most
// maxDepth deep), and parameters with no context are followed back to
// every call site in the package.

const (
	maxDepth = 6
	maxSteps = 20000
)

// Flow is the per-package index.
type Flow struct {
	Pass  *analysis.Pass
	Funcs []*ssa.Function

	local    map[*ssa.Function]bool
	callers  map[*ssa.Function][]ssa.CallInstruction
	closures map[*ssa.Function][]*ssa.MakeClosure
	writes   map[ssa.Value][]write
	passes   map[ssa.Value][]argPass
	// mu guards the caches below, which queries fill as they go: the
	// rules share one Flow and the analysis driver runs them
	// concurrently.
	mu     sync.Mutex
	guards map[*ssa.Function][]guard
	preds  map[predKey]int8 // 0 unknown, 1 yes, -1 no or in progress
}

// A write puts data in the memory below a root: a store, a map update,
// a flag definition, or an outside function that fills a pointer it is
// given from its other arguments (json.Decoder.Decode, io.ReadFull).
type write struct {
	path  []int
	instr ssa.Instruction
	val   ssa.Value
	call  *ssa.CallCommon
	arg   int
	src   *Source
}

// An argPass is a call to a function of the package with an address
// below a root as argument param.
type argPass struct {
	call   ssa.CallInstruction
	callee *ssa.Function
	param  int
	path   []int
}

// A guard says val passed a lexical containment check in every block
// that succ dominates.
type guard struct {
	val  ssa.Value
	succ *ssa.BasicBlock
}

type predKey struct {
	fn    *ssa.Function
	param int
}

// A frame is the call site through which a function's body is being
// followed: its parameters are that call's arguments.
type frame struct {
	call   ssa.CallInstruction
	parent *frame
	depth  int
}

func push(call ssa.CallInstruction, parent *frame) *frame {
	f := &frame{call: call, parent: parent}
	if parent != nil {
		f.depth = parent.depth + 1
	}
	return f
}

func runFlow(pass *analysis.Pass) (any, error) {
	s := pass.ResultOf[buildssa.Analyzer].(*buildssa.SSA)
	funcs := s.SrcFuncs
	// Package-level variables are initialized in the synthetic init,
	// which SrcFuncs leaves out: var dir = flag.String(...).
	if init := s.Pkg.Func("init"); init != nil && !slices.Contains(funcs, init) {
		funcs = append(slices.Clip(funcs), init)
	}
	e := &Flow{
		Pass:     pass,
		Funcs:    funcs,
		local:    map[*ssa.Function]bool{},
		callers:  map[*ssa.Function][]ssa.CallInstruction{},
		closures: map[*ssa.Function][]*ssa.MakeClosure{},
		writes:   map[ssa.Value][]write{},
		passes:   map[ssa.Value][]argPass{},
		guards:   map[*ssa.Function][]guard{},
		preds:    map[predKey]int8{},
	}
	for _, fn := range funcs {
		e.local[fn] = true
	}
	// Closures first: locOf maps a free variable to what was bound.
	for _, fn := range funcs {
		for _, b := range fn.Blocks {
			for _, in := range b.Instrs {
				if mc, ok := in.(*ssa.MakeClosure); ok {
					f := mc.Fn.(*ssa.Function)
					e.closures[f] = append(e.closures[f], mc)
				}
			}
		}
	}
	for _, fn := range funcs {
		for _, b := range fn.Blocks {
			for _, in := range b.Instrs {
				e.index(in)
			}
		}
	}
	return e, nil
}

func (e *Flow) index(in ssa.Instruction) {
	switch x := in.(type) {
	case *ssa.Store:
		root, path := e.locOf(x.Addr)
		e.writes[root] = append(e.writes[root], write{path: path, instr: in, val: x.Val})
	case *ssa.MapUpdate:
		root, path := e.locOf(x.Map)
		path = append(path, -1)
		e.writes[root] = append(e.writes[root],
			write{path: path, instr: in, val: x.Value},
			write{path: path, instr: in, val: x.Key})
	case ssa.CallInstruction:
		c := x.Common()
		name := funcName(c)
		if i, ok := flagVarCalls[name]; ok && i < len(c.Args) {
			root, path := e.locOf(c.Args[i])
			src := &Source{Args, strings.TrimPrefix(name, "(*flag.FlagSet).")}
			e.writes[root] = append(e.writes[root], write{path: path, instr: in, src: src})
			return
		}
		callee := c.StaticCallee()
		if callee != nil && e.local[callee] {
			e.callers[callee] = append(e.callers[callee], x)
			for i, a := range c.Args {
				if i < len(callee.Params) && isPointerLike(a.Type()) {
					root, path := e.locOf(a)
					e.passes[root] = append(e.passes[root], argPass{call: x, callee: callee, param: i, path: path})
				}
			}
			return
		}
		// An outside function may fill what a pointer, slice or map
		// argument refers to from its other arguments.
		for i, a := range c.Args {
			if isPointerLike(a.Type()) {
				root, path := e.locOf(a)
				e.writes[root] = append(e.writes[root], write{path: path, instr: in, call: c, arg: i})
			}
		}
	}
}

func isPointerLike(t types.Type) bool {
	switch t.Underlying().(type) {
	case *types.Pointer, *types.Slice, *types.Map:
		return true
	}
	return false
}

// binding returns what a closure's free variable was bound to, when the
// closure is made in one place only.
func (e *Flow) binding(fv *ssa.FreeVar) (ssa.Value, *ssa.MakeClosure) {
	fn := fv.Parent()
	mcs := e.closures[fn]
	if len(mcs) != 1 {
		return nil, nil
	}
	for i, f := range fn.FreeVars {
		if f == fv {
			return mcs[0].Bindings[i], mcs[0]
		}
	}
	return nil, nil
}

// locOf splits an address into the value it is below (an Alloc, a
// Global, a parameter, a slice...) and the field path to it (-1 for an
// element).
func (e *Flow) locOf(v ssa.Value) (ssa.Value, []int) {
	var rev []int
	for {
		switch x := v.(type) {
		case *ssa.FieldAddr:
			rev = append(rev, x.Field)
			v = x.X
			continue
		case *ssa.IndexAddr:
			rev = append(rev, -1)
			v = x.X
			continue
		case *ssa.Slice:
			v = x.X
			continue
		case *ssa.ChangeType:
			v = x.X
			continue
		case *ssa.FreeVar:
			if b, _ := e.binding(x); b != nil {
				v = b
				continue
			}
		}
		path := make([]int, len(rev))
		for i := range rev {
			path[i] = rev[len(rev)-1-i]
		}
		return v, path
	}
}

// compatible reports whether two field paths may overlap.
func compatible(a, b []int) bool {
	n := min(len(a), len(b))
	for i := range n {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func rest(path, prefix []int) []int {
	if len(path) > len(prefix) {
		return path[len(prefix):]
	}
	return nil
}

// A point is the chain of blocks at which a value is used: a lexical
// check that dominates any of them sanitizes the value there (SSA
// values do not change, so a name that was local where it was checked
// is local wherever the check dominates).
type point struct {
	b    *ssa.BasicBlock
	next *point
	n    int
}

func at(b *ssa.BasicBlock, next *point) *point {
	if next != nil && next.b == b {
		return next
	}
	p := &point{b: b, next: next, n: 1}
	if next != nil {
		p.n = next.n + 1
		if p.n > 8 {
			p.next, p.n = nil, 1
		}
	}
	return p
}

// Query asks whether data of the given kinds reaches v, used in block b.
// With sanitize, lexical checks and contained joins stop the taint.
func (e *Flow) Query(v ssa.Value, b *ssa.BasicBlock, mask Kind, sanitize bool) *Source {
	return e.query(v, b, mask, sanitize, false)
}

// QueryFile is Query for a name that a call opens or creates as a file:
// filepath.Base, whose ".." can only name the parent directory, also
// stops the taint.
func (e *Flow) QueryFile(v ssa.Value, b *ssa.BasicBlock, mask Kind) *Source {
	return e.query(v, b, mask, true, true)
}

func (e *Flow) query(v ssa.Value, b *ssa.BasicBlock, mask Kind, sanitize, fileSink bool) *Source {
	e.mu.Lock()
	defer e.mu.Unlock()
	q := &query{e: e, sanitize: sanitize, fileSink: fileSink, seen: map[qkey]bool{}}
	return q.flow(v, nil, at(b, nil), nil, mask)
}

type query struct {
	e        *Flow
	sanitize bool
	fileSink bool
	seen     map[qkey]bool
	steps    int
}

type qkey struct {
	v    ssa.Value
	path string
	b    *ssa.BasicBlock
	f    *frame
	mask Kind
	mem  bool
}

func (q *query) visit(v ssa.Value, path []int, pt *point, f *frame, mask Kind, mem bool) bool {
	q.steps++
	if q.steps > maxSteps {
		return false
	}
	var b *ssa.BasicBlock
	if pt != nil {
		b = pt.b
	}
	k := qkey{v, fmt.Sprint(path), b, f, mask, mem}
	if q.seen[k] {
		return false
	}
	q.seen[k] = true
	return true
}

// flow is the taint of value v, or of the part of it at path (fields of
// a struct value), used at pt, in the function entered through f.
func (q *query) flow(v ssa.Value, path []int, pt *point, f *frame, mask Kind) *Source {
	if mask == 0 || v == nil || !taintable(v.Type()) {
		return nil
	}
	if !q.visit(v, path, pt, f, mask, false) {
		return nil
	}
	if q.sanitize && q.e.sanitized(v, pt) {
		return nil
	}
	if in, ok := v.(ssa.Instruction); ok && in.Block() != nil {
		pt = at(in.Block(), pt)
	}
	switch x := v.(type) {
	case *ssa.Const, *ssa.Function, *ssa.Builtin, *ssa.MakeClosure:
		return nil
	case *ssa.Parameter:
		return q.param(x, path, pt, f, mask, false)
	case *ssa.FreeVar:
		if b, mc := q.e.binding(x); b != nil {
			return q.flow(b, path, at(mc.Block(), nil), nil, mask)
		}
		return nil
	case *ssa.Global, *ssa.Alloc, *ssa.MakeSlice, *ssa.MakeMap, *ssa.MakeChan,
		*ssa.FieldAddr, *ssa.IndexAddr:
		return q.mem(x, path, pt, f, mask)
	case *ssa.UnOp:
		if x.Op == token.MUL {
			return q.mem(x.X, path, pt, f, mask)
		}
		return q.flow(x.X, path, pt, f, mask)
	case *ssa.Field:
		if lbl, ok := archiveField(x.X.Type(), x.Field); ok && mask&Archive != 0 {
			return &Source{Archive, lbl}
		}
		return q.flow(x.X, append([]int{x.Field}, path...), pt, f, mask)
	case *ssa.Index:
		return q.flow(x.X, nil, pt, f, mask)
	case *ssa.Lookup:
		if s := q.flow(x.X, nil, pt, f, mask); s != nil {
			return s
		}
		if _, ok := x.X.Type().Underlying().(*types.Map); ok {
			return q.mem(x.X, []int{-1}, pt, f, mask)
		}
		return nil
	case *ssa.Slice:
		if _, ok := x.X.Type().Underlying().(*types.Pointer); ok {
			return q.mem(x.X, nil, pt, f, mask)
		}
		return q.flow(x.X, nil, pt, f, mask)
	case *ssa.BinOp:
		if s := q.flow(x.X, nil, pt, f, mask); s != nil {
			return s
		}
		return q.flow(x.Y, nil, pt, f, mask)
	case *ssa.Convert:
		return q.flow(x.X, path, pt, f, mask)
	case *ssa.ChangeType:
		return q.flow(x.X, path, pt, f, mask)
	case *ssa.MakeInterface:
		return q.flow(x.X, path, pt, f, mask)
	case *ssa.ChangeInterface:
		return q.flow(x.X, path, pt, f, mask)
	case *ssa.TypeAssert:
		return q.flow(x.X, path, pt, f, mask)
	case *ssa.SliceToArrayPointer:
		return q.flow(x.X, nil, pt, f, mask)
	case *ssa.Extract:
		if c, ok := x.Tuple.(*ssa.Call); ok {
			return q.call(c, x.Index, pt, f, mask)
		}
		return q.flow(x.Tuple, nil, pt, f, mask)
	case *ssa.Phi:
		for i, ev := range x.Edges {
			if s := q.flow(ev, path, at(x.Block().Preds[i], pt), f, mask); s != nil {
				return s
			}
		}
		return nil
	case *ssa.Call:
		return q.call(x, -1, pt, f, mask)
	case *ssa.Next:
		return q.flow(x.Iter, nil, pt, f, mask)
	case *ssa.Range:
		return q.flow(x.X, nil, pt, f, mask)
	}
	return nil
}

// param follows a parameter to the argument of the call in f, or, with
// no call to follow, to the arguments of every call in the package.
// Parameters that are pieces of an HTTP request are untrusted as such.
func (q *query) param(p *ssa.Parameter, path []int, pt *point, f *frame, mask Kind, mem bool) *Source {
	if mask&Remote != 0 && remoteType(p.Type()) {
		return &Source{Remote, "the HTTP request"}
	}
	fn := p.Parent()
	idx := -1
	for i, fp := range fn.Params {
		if fp == p {
			idx = i
		}
	}
	if idx < 0 {
		return nil
	}
	follow := func(call ssa.CallInstruction, parent *frame) *Source {
		args := call.Common().Args
		if idx >= len(args) {
			return nil
		}
		if mem {
			return q.mem(args[idx], path, at(call.Block(), nil), parent, mask)
		}
		return q.flow(args[idx], path, at(call.Block(), nil), parent, mask)
	}
	if f != nil {
		return follow(f.call, f.parent)
	}
	for _, call := range q.e.callers[fn] {
		if s := follow(call, nil); s != nil {
			return s
		}
	}
	return nil
}

// call is the taint of result idx (-1: the only one) of a call.
func (q *query) call(c *ssa.Call, idx int, pt *point, f *frame, mask Kind) *Source {
	com := c.Common()
	name := funcName(com)
	if s, ok := sourceCalls[name]; ok && mask&s.Kind != 0 {
		return &s
	}
	if boundCalls[name] {
		mask &^= Stream
	}
	if q.sanitize && (containCalls[name] || baseCalls[name] && q.fileSink) {
		return nil
	}
	if q.sanitize && (name == "path/filepath.Join" || name == "path.Join") {
		return q.join(c, pt, f, mask)
	}
	callee := com.StaticCallee()
	if callee != nil && q.e.local[callee] && len(callee.Blocks) > 0 {
		if f != nil && f.depth >= maxDepth {
			return nil
		}
		nf := push(c, f)
		for _, b := range callee.Blocks {
			ret, ok := b.Instrs[len(b.Instrs)-1].(*ssa.Return)
			if !ok {
				continue
			}
			var r ssa.Value
			switch {
			case idx < 0 && len(ret.Results) == 1:
				r = ret.Results[0]
			case idx >= 0 && idx < len(ret.Results):
				r = ret.Results[idx]
			}
			if s := q.flow(r, nil, at(b, nil), nf, mask); s != nil {
				return s
			}
		}
		return nil
	}
	// An outside (or dynamic) function: what comes out is as untrusted
	// as what goes in. An entry's or decompressor's size only travels
	// from reader to reader (bufio.NewReader(gz)).
	res := c.Type()
	if t, ok := res.(*types.Tuple); ok && idx >= 0 {
		res = t.At(idx).Type()
	}
	if !taintable(res) {
		return nil
	}
	in := com.Args
	if com.IsInvoke() {
		in = append([]ssa.Value{com.Value}, in...)
	}
	for _, a := range in {
		m := mask
		if !isReader(a.Type()) || !isReader(res) {
			m &^= Stream
		}
		if s := q.flow(a, nil, pt, f, m); s != nil {
			return s
		}
	}
	return nil
}

// join is the taint of filepath.Join(elems...) or path.Join. An element
// after the first that is Clean("/" + x) cannot climb: Clean removes
// every ".." at the root, so the join stays under the elements before it
// (the idiom of http.Dir).
func (q *query) join(c *ssa.Call, pt *point, f *frame, mask Kind) *Source {
	var elems []ssa.Value
	for i := 0; ; i++ {
		el := joinElem(c, i)
		if el == nil {
			break
		}
		elems = append(elems, el)
	}
	if len(elems) == 0 { // Join(parts...): follow the slice
		return q.flow(c.Call.Args[0], nil, pt, f, mask)
	}
	for i, el := range elems {
		if i > 0 && rootedClean(el) {
			continue
		}
		if s := q.flow(el, nil, pt, f, mask); s != nil {
			return s
		}
	}
	return nil
}

// rootedClean reports whether v is filepath.Clean or path.Clean of a
// string that starts with "/".
func rootedClean(v ssa.Value) bool {
	c, ok := v.(*ssa.Call)
	if !ok {
		return false
	}
	switch funcName(c.Common()) {
	case "path/filepath.Clean", "path.Clean":
	default:
		return false
	}
	b, ok := c.Call.Args[0].(*ssa.BinOp)
	if !ok || b.Op != token.ADD {
		return false
	}
	k, ok := b.X.(*ssa.Const)
	return ok && k.Value != nil && k.Value.Kind() == constant.String &&
		strings.HasPrefix(constant.StringVal(k.Value), "/")
}

// mem is the taint of the memory at addr (and path below it).
func (q *query) mem(addr ssa.Value, path []int, pt *point, f *frame, mask Kind) *Source {
	if mask == 0 {
		return nil
	}
	if !q.visit(addr, path, pt, f, mask, true) {
		return nil
	}
	for a := addr; ; {
		fa, ok := a.(*ssa.FieldAddr)
		if !ok {
			break
		}
		if lbl, ok := archiveField(fa.X.Type(), fa.Field); ok && mask&Archive != 0 {
			return &Source{Archive, lbl}
		}
		a = fa.X
	}
	root, rp := q.e.locOf(addr)
	full := append(append([]int(nil), rp...), path...)
	switch r := root.(type) {
	case *ssa.Global:
		if r.Pkg != nil && r.Pkg.Pkg.Path() == "os" && r.Name() == "Args" && mask&Args != 0 {
			return &Source{Args, "os.Args"}
		}
	case *ssa.Alloc, *ssa.MakeSlice, *ssa.MakeMap, *ssa.FreeVar:
	case *ssa.Parameter:
		if s := q.param(r, full, pt, f, mask, true); s != nil {
			return s
		}
	default:
		// A pointer taken from an untrusted value (r.URL, hdr) points
		// to untrusted memory.
		if s := q.flow(root, nil, pt, f, mask); s != nil {
			return s
		}
	}
	return q.writesTo(root, full, f, mask)
}

// writesTo is the taint of what the package writes below root at path,
// directly or through functions it passes an address to.
func (q *query) writesTo(root ssa.Value, path []int, f *frame, mask Kind) *Source {
	if !q.visit(root, path, nil, f, mask, true) {
		return nil
	}
	for _, w := range q.e.writes[root] {
		if !compatible(w.path, path) {
			continue
		}
		pt := at(w.instr.Block(), nil)
		switch {
		case w.src != nil:
			if mask&w.src.Kind != 0 {
				return w.src
			}
		case w.val != nil:
			if s := q.flow(w.val, rest(path, w.path), pt, f, mask); s != nil {
				return s
			}
		case w.call != nil:
			in := w.call.Args
			if w.call.IsInvoke() {
				in = append([]ssa.Value{w.call.Value}, in...)
			} else {
				in = append(in[:w.arg:w.arg], in[w.arg+1:]...)
			}
			for _, a := range in {
				if s := q.flow(a, nil, pt, f, mask&^Stream); s != nil {
					return s
				}
			}
		}
	}
	if f != nil && f.depth >= maxDepth {
		return nil
	}
	for _, ap := range q.e.passes[root] {
		if !compatible(ap.path, path) || ap.param >= len(ap.callee.Params) {
			continue
		}
		p := ap.callee.Params[ap.param]
		if s := q.writesTo(p, rest(path, ap.path), push(ap.call, f), mask); s != nil {
			return s
		}
	}
	return nil
}

// key names a value so that two loads of the same variable or field in
// one function compare equal (the check and the use of req.Name are two
// loads in SSA form). Stores between them are not considered.
func key(v ssa.Value) string {
	switch x := v.(type) {
	case *ssa.UnOp:
		if x.Op == token.MUL {
			return "*" + key(x.X)
		}
	case *ssa.FieldAddr:
		return key(x.X) + "&." + strconv.Itoa(x.Field)
	case *ssa.Field:
		return key(x.X) + "." + strconv.Itoa(x.Field)
	case *ssa.IndexAddr:
		if c, ok := x.Index.(*ssa.Const); ok {
			return key(x.X) + "&[" + c.Value.String() + "]"
		}
	case *ssa.Index:
		if c, ok := x.Index.(*ssa.Const); ok {
			return key(x.X) + "[" + c.Value.String() + "]"
		}
	case *ssa.Extract:
		return key(x.Tuple) + "#" + strconv.Itoa(x.Index)
	case *ssa.ChangeType:
		return key(x.X)
	case *ssa.Const:
		return "const " + x.String()
	case *ssa.Call:
		// Two calls of a pure path function on the same names build the
		// same name: filepath.Join(home, ".netrc") twice.
		name := funcName(x.Common())
		if !pureCalls[name] {
			break
		}
		args := x.Call.Args
		if len(args) == 1 {
			if _, ok := args[0].(*ssa.Slice); ok {
				args = nil
				for i := 0; ; i++ {
					el := joinElem(x, i)
					if el == nil {
						break
					}
					args = append(args, el)
				}
			}
		}
		k := name + "("
		for _, a := range args {
			k += key(a) + ","
		}
		return k + ")"
	}
	return fmt.Sprintf("%p", v)
}

// pureCalls build a name from their arguments alone.
var pureCalls = map[string]bool{
	"path/filepath.Join":  true,
	"path/filepath.Clean": true,
	"path.Join":           true,
	"path.Clean":          true,
	"fmt.Sprintf":         true,
	"os.Getenv":           true, // the same variable twice: one value, for these rules
}

// sanitized reports whether a lexical check of v dominates a block of pt.
func (e *Flow) sanitized(v ssa.Value, pt *point) bool {
	if pt == nil {
		return false
	}
	fn := pt.b.Parent()
	gs := e.guardsOf(fn)
	if len(gs) == 0 {
		return false
	}
	k := key(v)
	for _, g := range gs {
		if key(g.val) != k {
			continue
		}
		for p := pt; p != nil; p = p.next {
			if p.b.Parent() == fn && g.succ.Dominates(p.b) {
				return true
			}
		}
	}
	return false
}

func (e *Flow) guardsOf(fn *ssa.Function) []guard {
	if gs, ok := e.guards[fn]; ok {
		return gs
	}
	e.guards[fn] = nil // in progress
	var gs []guard
	for _, b := range fn.Blocks {
		if len(b.Instrs) == 0 {
			continue
		}
		if br, ok := b.Instrs[len(b.Instrs)-1].(*ssa.If); ok {
			gs = e.condGuards(gs, br.Cond, b, b.Succs[0], b.Succs[1])
		}
	}
	e.guards[fn] = gs
	return gs
}

// condGuards adds the guards that a branch on cond gives: ok is the
// successor taken when the check passed.
func (e *Flow) condGuards(gs []guard, cond ssa.Value, b, ok, fail *ssa.BasicBlock) []guard {
	add := func(v ssa.Value, succ *ssa.BasicBlock) {
		// The successor must be entered only from this branch.
		if len(succ.Preds) == 1 && succ.Preds[0] == b {
			gs = append(gs, guard{val: v, succ: succ})
		}
	}
	switch c := cond.(type) {
	case *ssa.UnOp:
		if c.Op == token.NOT {
			return e.condGuards(gs, c.X, b, fail, ok)
		}
	case *ssa.Call:
		if i, found := localChecks[funcName(c.Common())]; found && i < len(c.Call.Args) {
			add(c.Call.Args[i], ok)
			return gs
		}
		if callee := c.Call.StaticCallee(); callee != nil && e.local[callee] {
			for i := range callee.Params {
				if e.predicate(callee, i) {
					add(c.Call.Args[i], ok)
				}
			}
		}
	case *ssa.BinOp:
		if c.Op != token.EQL && c.Op != token.NEQ {
			break
		}
		x, y := c.X, c.Y
		if isNil(x) {
			x, y = y, x
		}
		if !isNil(y) {
			break
		}
		if ex, isEx := x.(*ssa.Extract); isEx {
			x = ex.Tuple
		}
		call, isCall := x.(*ssa.Call)
		if !isCall {
			break
		}
		callee := call.Call.StaticCallee()
		if callee == nil || !e.local[callee] {
			break
		}
		succ := ok
		if c.Op == token.NEQ {
			succ = fail
		}
		for i := range callee.Params {
			if e.predicate(callee, i) {
				add(call.Call.Args[i], succ)
			}
		}
	}
	return gs
}

func isNil(v ssa.Value) bool {
	c, ok := v.(*ssa.Const)
	return ok && c.Value == nil
}

// predicate reports whether fn checks its parameter i: fn returns a
// bool that is true, or a last error result that is nil, only where a
// lexical check of that parameter passed.
func (e *Flow) predicate(fn *ssa.Function, i int) bool {
	k := predKey{fn, i}
	if r, ok := e.preds[k]; ok {
		return r == 1
	}
	e.preds[k] = -1
	res := fn.Signature.Results()
	if res.Len() == 0 || i >= len(fn.Params) || !taintable(fn.Params[i].Type()) {
		return false
	}
	last := res.Len() - 1
	isBool := res.Len() == 1 && types.Identical(res.At(0).Type().Underlying(), types.Typ[types.Bool])
	isErr := types.Identical(res.At(last).Type(), types.Universe.Lookup("error").Type())
	if !isBool && !isErr {
		return false
	}
	p := fn.Params[i]
	checked := func(b *ssa.BasicBlock) bool {
		for _, g := range e.guardsOf(fn) {
			if key(g.val) == key(p) && g.succ.Dominates(b) {
				return true
			}
		}
		return false
	}
	var ok func(v ssa.Value, b *ssa.BasicBlock, depth int) bool
	ok = func(v ssa.Value, b *ssa.BasicBlock, depth int) bool {
		if depth > 8 {
			return false
		}
		if isBool {
			if c, isC := v.(*ssa.Const); isC && c.Value != nil && !constant.BoolVal(c.Value) {
				return true
			}
			if c, isC := v.(*ssa.Call); isC {
				if j, found := localChecks[funcName(c.Common())]; found && key(c.Call.Args[j]) == key(p) {
					return true
				}
			}
		} else {
			switch x := v.(type) {
			case *ssa.MakeInterface:
				return true // a concrete error value is not nil
			case *ssa.UnOp:
				if _, g := x.X.(*ssa.Global); g && x.Op == token.MUL {
					return true // a sentinel error
				}
			case *ssa.Call:
				switch funcName(x.Common()) {
				case "errors.New", "fmt.Errorf":
					return true
				}
			}
		}
		if phi, isPhi := v.(*ssa.Phi); isPhi {
			for j, ev := range phi.Edges {
				if !ok(ev, phi.Block().Preds[j], depth+1) {
					return false
				}
			}
			return true
		}
		return checked(b)
	}
	for _, b := range fn.Blocks {
		ret, isRet := b.Instrs[len(b.Instrs)-1].(*ssa.Return)
		if !isRet || len(ret.Results) == 0 {
			continue
		}
		if !ok(ret.Results[last], b, 0) {
			return false
		}
	}
	e.preds[k] = 1
	return true
}
