package checks

import (
	"fmt"
	"go/constant"
	"go/token"
	"strings"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/ssa"
)

// pathSinks are the calls that act on a file by name: the indexes of
// their name arguments.
var pathSinks = map[string][]int{
	"os.Open":             {0},
	"os.OpenFile":         {0},
	"os.Create":           {0},
	"os.ReadFile":         {0},
	"os.WriteFile":        {0},
	"os.ReadDir":          {0},
	"os.Remove":           {0},
	"os.RemoveAll":        {0},
	"os.Rename":           {0, 1},
	"os.Mkdir":            {0},
	"os.MkdirAll":         {0},
	"os.MkdirTemp":        {0},
	"os.CreateTemp":       {0},
	"os.Chmod":            {0},
	"os.Chown":            {0},
	"os.Lchown":           {0},
	"os.Chtimes":          {0},
	"os.Truncate":         {0},
	"os.Symlink":          {0, 1},
	"os.Link":             {0, 1},
	"io/ioutil.ReadFile":  {0},
	"io/ioutil.WriteFile": {0},
	"io/ioutil.ReadDir":   {0},
	"io/ioutil.TempFile":  {0},
	"io/ioutil.TempDir":   {0},
	"net/http.ServeFile":  {2},

	// Web frameworks' file helpers.
	// (A static method call's arguments start with the receiver; an
	// interface method call's do not.)
	"(*github.com/gin-gonic/gin.Context).File":             {1},
	"(*github.com/gin-gonic/gin.Context).FileAttachment":   {1},
	"(*github.com/gin-gonic/gin.Context).SaveUploadedFile": {2},
	"(github.com/labstack/echo/v4.Context).File":           {0},
	"(github.com/labstack/echo/v4.Context).Attachment":     {0},
	"(*github.com/gofiber/fiber/v2.Ctx).SendFile":          {1},
	"(*github.com/gofiber/fiber/v2.Ctx).SaveFile":          {2},
}

// fileSinks need a file at the name: filepath.Base's ".." (the parent
// directory) cannot be opened, read or created as one.
var fileSinks = map[string]bool{
	"os.Open": true, "os.Create": true, "os.ReadFile": true, "os.WriteFile": true,
	"io/ioutil.ReadFile": true, "io/ioutil.WriteFile": true,
	"(*github.com/gin-gonic/gin.Context).SaveUploadedFile": true,
	"(*github.com/gofiber/fiber/v2.Ctx).SaveFile":          true,
}

// query asks whether untrusted data of mask reaches argument i of s.
func (e *Flow) sinkQuery(s site, i int, mask Kind) *Source {
	arg := s.call.Common().Args[i]
	if fileSinks[s.name] {
		return e.QueryFile(arg, s.call.Block(), mask)
	}
	return e.Query(arg, s.call.Block(), mask, true)
}

// rootSinks open a directory that later names are confined to.
var rootSinks = map[string][]int{
	"os.OpenRoot":            {0},
	"os.OpenInRoot":          {0},
	"os.DirFS":               {0},
	confinePkg + ".OpenRoot": {0},
	"github.com/pathguard/pathguard/securepath.OpenDir": {0},
	"github.com/pathguard/pathguard/securepath.Open":    {0},
}

// checkCalls look at a name without opening it: the index of the name.
var checkCalls = map[string]int{
	"path/filepath.EvalSymlinks":      0,
	"os.Readlink":                     0,
	"os.Stat":                         0,
	"os.Lstat":                        0,
	"syscall.Access":                  0,
	"syscall.Stat":                    0,
	"syscall.Lstat":                   0,
	"golang.org/x/sys/unix.Access":    0,
	"golang.org/x/sys/unix.Faccessat": 1,
	"golang.org/x/sys/unix.Stat":      0,
	"golang.org/x/sys/unix.Lstat":     0,
}

// copyCalls read a whole stream: the index of the reader.
var copyCalls = map[string]int{
	"io.Copy":                  1,
	"io.CopyBuffer":            1,
	"io.ReadAll":               0,
	"io/ioutil.ReadAll":        0,
	"(*bytes.Buffer).ReadFrom": 1,
	"(*os.File).ReadFrom":      1,
	"(*bufio.Writer).ReadFrom": 1,
}

// prefixCalls compare a string prefix: the indexes of (s, prefix).
var prefixCalls = map[string][2]int{
	"strings.HasPrefix":       {0, 1},
	"bytes.HasPrefix":         {0, 1},
	"path/filepath.HasPrefix": {0, 1},
	"strings.CutPrefix":       {0, 1},
}

// pathFuncs make file system paths: a prefix test on what they return
// is a containment check.
var pathFuncs = map[string]bool{
	"path/filepath.Join":         true,
	"path/filepath.Clean":        true,
	"path/filepath.Abs":          true,
	"path/filepath.EvalSymlinks": true,
	"path/filepath.Rel":          true,
	"path/filepath.Dir":          true,
	"path/filepath.FromSlash":    true,
	"os.Getwd":                   true,
	"os.Readlink":                true,
}

// A site is one call in the package's source.
type site struct {
	fn   *ssa.Function
	call ssa.CallInstruction
	name string
}

// sites lists the calls whose callee is in names, outside _test.go
// files: tests are not where untrusted input arrives.
func (e *Flow) sites(names func(string) bool) []site {
	var out []site
	for _, fn := range e.Funcs {
		for _, b := range fn.Blocks {
			for _, in := range b.Instrs {
				c, ok := in.(ssa.CallInstruction)
				if !ok {
					continue
				}
				name := funcName(c.Common())
				if name == "" || !names(name) || e.inTest(c.Pos()) {
					continue
				}
				out = append(out, site{fn, c, name})
			}
		}
	}
	return out
}

func (e *Flow) inTest(pos token.Pos) bool {
	return strings.HasSuffix(e.Pass.Fset.Position(pos).Filename, "_test.go")
}

func inMap[V any](m map[string]V) func(string) bool {
	return func(s string) bool { _, ok := m[s]; return ok }
}

// short is a callee name as the code writes it: os.Open, zip.File.Open.
func short(name string) string {
	name = strings.NewReplacer("(*", "", ")", "").Replace(name)
	if i := strings.LastIndex(name, "/"); i >= 0 {
		name = name[i+1:]
	}
	return name
}

func flowOf(pass *analysis.Pass) *Flow {
	return pass.ResultOf[FlowAnalyzer].(*Flow)
}

// reportOnce reports one diagnostic per position and rule.
type reporter struct {
	pass *analysis.Pass
	seen map[token.Pos]bool
}

func (r *reporter) report(d analysis.Diagnostic) {
	if r.seen == nil {
		r.seen = map[token.Pos]bool{}
	}
	if r.seen[d.Pos] {
		return
	}
	r.seen[d.Pos] = true
	r.pass.Report(d)
}

// PathInject: untrusted names into calls that act on files by name.
var PathInject = &analysis.Analyzer{
	Name: "pathinject",
	Doc: `report untrusted names that reach a file system call

pathinject reports a name from an HTTP request, os.Args, a flag or the
environment that reaches os.Open, OpenFile, Create, ReadFile, WriteFile,
ReadDir, Remove, RemoveAll, Rename, Mkdir, MkdirAll, Chmod, Chown, Chtimes,
Symlink, Link or http.ServeFile, through assignments, filepath.Join,
path.Join, fmt.Sprintf, concatenation and calls within the package.
filepath.Clean, Abs, Rel, EvalSymlinks and strings.HasPrefix do not make
a name safe; a check with filepath.IsLocal, canon.IsLocal or canon.Within
that the call is under does, and so does opening through os.Root or
confine.Root. CERT FIO02-C and IDS00-PL; CWE-22 (path traversal) and
CWE-73 (external control of file name).`,
	URL:      "https://github.com/pathguard/pathguard/blob/main/docs/pathvet.md#pathinject",
	Requires: []*analysis.Analyzer{FlowAnalyzer},
	Run:      runPathInject,
}

func runPathInject(pass *analysis.Pass) (any, error) {
	e := flowOf(pass)
	r := &reporter{pass: pass}
	for _, s := range e.sites(inMap(pathSinks)) {
		for _, i := range pathSinks[s.name] {
			arg := s.call.Common().Args[i]
			src := e.sinkQuery(s, i, Remote|Args|Env)
			if src == nil {
				continue
			}
			d := analysis.Diagnostic{
				Pos: s.call.Pos(),
				Message: fmt.Sprintf("untrusted name from %s reaches %s (CWE-22): open it through an os.Root "+
					"or confine.Root, or check it with filepath.IsLocal first", src.Label, short(s.name)),
			}
			d.SuggestedFixes = e.openInRootFix(s, arg)
			r.report(d)
		}
	}
	return nil, nil
}

// ZipSlip: archive entry names and link targets into file system calls.
var ZipSlip = &analysis.Analyzer{
	Name: "zipslip",
	Doc: `report archive entry names that reach a file system call (Zip Slip)

zipslip reports the Name or Linkname of an archive/tar Header, or the Name
of an archive/zip FileHeader, that reaches a call acting on a file by name
(os.Create, OpenFile, MkdirAll, WriteFile, ...), or os.Symlink or os.Link
as a path or a link target, unless a filepath.IsLocal, canon.IsLocal or
canon.Within check of it is passed first. An entry named "../../x", or a
link to "/etc", lands outside the destination. Extract into a
confine.Root with confine/extract instead. CERT IDS04-J; CWE-22 and
CWE-59 (link following).`,
	URL:      "https://github.com/pathguard/pathguard/blob/main/docs/pathvet.md#zipslip",
	Requires: []*analysis.Analyzer{FlowAnalyzer},
	Run:      runZipSlip,
}

func runZipSlip(pass *analysis.Pass) (any, error) {
	e := flowOf(pass)
	r := &reporter{pass: pass}
	for _, s := range e.sites(inMap(pathSinks)) {
		for _, i := range pathSinks[s.name] {
			src := e.sinkQuery(s, i, Archive)
			if src == nil {
				continue
			}
			what := "the path of"
			if (s.name == "os.Symlink" || s.name == "os.Link") && i == 0 {
				what = "the target of"
			}
			r.report(analysis.Diagnostic{
				Pos: s.call.Pos(),
				Message: fmt.Sprintf("archive entry's %s is %s %s (Zip Slip, CWE-22): an entry can name a place "+
					"outside the destination; extract into a confine.Root (confine/extract) or check it with filepath.IsLocal",
					src.Label, what, short(s.name)),
			})
		}
	}
	return nil, nil
}

// ArchiveBomb: unbounded copies out of archive entries and decompressors.
var ArchiveBomb = &analysis.Analyzer{
	Name: "archivebomb",
	Doc: `report unbounded copies from an archive entry or a decompressor

archivebomb reports io.Copy, io.CopyBuffer, io.ReadAll and ReadFrom whose
source is an archive/tar reader, an archive/zip entry, or a compress/*
decompressor (directly or wrapped in another reader), unless it went
through io.LimitReader or http.MaxBytesReader: the archive's author, not
the program, decides how much comes out. Use io.CopyN with a limit, or
confine/extract's WithLimits. CERT IDS04-J; CWE-409 (decompression bomb)
and CWE-400.`,
	URL:      "https://github.com/pathguard/pathguard/blob/main/docs/pathvet.md#archivebomb",
	Requires: []*analysis.Analyzer{FlowAnalyzer},
	Run:      runArchiveBomb,
}

func runArchiveBomb(pass *analysis.Pass) (any, error) {
	e := flowOf(pass)
	r := &reporter{pass: pass}
	for _, s := range e.sites(inMap(copyCalls)) {
		src := e.Query(s.call.Common().Args[copyCalls[s.name]], s.call.Block(), Stream, false)
		if src == nil {
			continue
		}
		r.report(analysis.Diagnostic{
			Pos: s.call.Pos(),
			Message: fmt.Sprintf("%s reads from %s with no bound (CWE-409): wrap the reader in io.LimitReader "+
				"or use io.CopyN with a limit", short(s.name), src.Label),
		})
	}
	return nil, nil
}

// UntrustedRoot: a Root opened where a request or an archive says.
var UntrustedRoot = &analysis.Analyzer{
	Name: "untrustedroot",
	Doc: `report a confining directory chosen by untrusted input

untrustedroot reports a name from an HTTP request or an archive entry that
reaches os.OpenRoot, os.OpenInRoot, os.DirFS, confine.OpenRoot or
securepath.OpenDir/Open as the directory: a Root confines names to the
directory it is opened on, so that directory must be the program's
choice. A filepath.IsLocal, canon.IsLocal or canon.Within check of it
first, against a directory the program chose, is accepted. Command-line
arguments and the environment are the invoking user's choice and are not
reported by this rule. CERT FIO02-C; CWE-73 (external control of file
name or path) and CWE-22.`,
	URL:      "https://github.com/pathguard/pathguard/blob/main/docs/pathvet.md#untrustedroot",
	Requires: []*analysis.Analyzer{FlowAnalyzer},
	Run:      runUntrustedRoot,
}

func runUntrustedRoot(pass *analysis.Pass) (any, error) {
	e := flowOf(pass)
	r := &reporter{pass: pass}
	for _, s := range e.sites(inMap(rootSinks)) {
		src := e.Query(s.call.Common().Args[0], s.call.Block(), Remote|Archive, true)
		if src == nil {
			continue
		}
		r.report(analysis.Diagnostic{
			Pos: s.call.Pos(),
			Message: fmt.Sprintf("%s opens a directory named by %s (CWE-73): open the Root on a directory "+
				"the program chose and pass the untrusted name to its methods", short(s.name), src.Label),
		})
	}
	return nil, nil
}

// PrefixCheck: strings.HasPrefix used as path containment.
var PrefixCheck = &analysis.Analyzer{
	Name: "prefixcheck",
	Doc: `report strings.HasPrefix used to confine an untrusted path

prefixcheck reports strings.HasPrefix, bytes.HasPrefix, strings.CutPrefix
and filepath.HasPrefix applied to an untrusted path made with
filepath.Join, Clean, Abs, EvalSymlinks or Rel, or against such a
directory. A string prefix is not a path prefix ("/srv/www2" starts with
"/srv/www"), and even with a separator the test is lexical: a symlink
inside the directory still leads out, and the name can change after the
test. The suggested fix is canon.Within, which compares whole components;
act through a confine.Root to handle symlinks and races. CERT FIO02-C and
IDS00-PL; CWE-22 and CWE-187 (partial string comparison).`,
	URL:      "https://github.com/pathguard/pathguard/blob/main/docs/pathvet.md#prefixcheck",
	Requires: []*analysis.Analyzer{FlowAnalyzer},
	Run:      runPrefixCheck,
}

func runPrefixCheck(pass *analysis.Pass) (any, error) {
	e := flowOf(pass)
	r := &reporter{pass: pass}
	for _, s := range e.sites(inMap(prefixCalls)) {
		ix := prefixCalls[s.name]
		args := s.call.Common().Args
		str, prefix := args[ix[0]], args[ix[1]]
		if !e.pathMade(str, 0) && !e.pathMade(prefix, 0) {
			continue
		}
		if c, ok := prefix.(*ssa.Const); ok && !dirConst(c) {
			continue
		}
		src := e.Query(str, s.call.Block(), Untrusted, true)
		if src == nil {
			continue
		}
		d := analysis.Diagnostic{
			Pos: s.call.Pos(),
			Message: fmt.Sprintf("%s tests containment of a path from %s by string prefix (CWE-22, CWE-187): "+
				"\"/srv/www2\" starts with \"/srv/www\" and a symlink inside still leads out; use canon.Within, "+
				"or act through a confine.Root", short(s.name), src.Label),
		}
		if s.name == "strings.HasPrefix" {
			d.SuggestedFixes = e.withinFix(s)
		}
		r.report(d)
	}
	return nil, nil
}

// dirConst reports whether a constant prefix looks like an absolute
// directory: "/srv/www", not "/" or "../".
func dirConst(c *ssa.Const) bool {
	if c.Value == nil || c.Value.Kind() != constant.String {
		return false
	}
	s := constant.StringVal(c.Value)
	return strings.HasPrefix(s, "/") && len(strings.Trim(s, "/")) > 0
}

// pathMade reports whether v is made by a file system path function of
// package filepath (not package path: its Clean is for URLs), here or in
// a function of the package that returns it.
func (e *Flow) pathMade(v ssa.Value, depth int) bool {
	if depth > 6 {
		return false
	}
	switch x := v.(type) {
	case *ssa.Call:
		name := funcName(x.Common())
		if pathFuncs[name] {
			return true
		}
		if callee := x.Call.StaticCallee(); callee != nil && e.local[callee] {
			for _, b := range callee.Blocks {
				if ret, ok := b.Instrs[len(b.Instrs)-1].(*ssa.Return); ok && len(ret.Results) > 0 &&
					e.pathMade(ret.Results[0], depth+1) {
					return true
				}
			}
			return false
		}
		for _, a := range x.Call.Args {
			if e.pathMade(a, depth+1) {
				return true
			}
		}
	case *ssa.Extract:
		if c, ok := x.Tuple.(*ssa.Call); ok {
			return pathFuncs[funcName(c.Common())] || e.pathMade(c, depth+1)
		}
	case *ssa.BinOp:
		return e.pathMade(x.X, depth+1) || e.pathMade(x.Y, depth+1)
	case *ssa.Phi:
		for _, ev := range x.Edges {
			if e.pathMade(ev, depth+1) {
				return true
			}
		}
	case *ssa.Convert:
		return e.pathMade(x.X, depth+1)
	case *ssa.ChangeType:
		return e.pathMade(x.X, depth+1)
	case *ssa.Parameter:
		for _, c := range e.callers[x.Parent()] {
			for i, p := range x.Parent().Params {
				if p == x && i < len(c.Common().Args) && e.pathMade(c.Common().Args[i], depth+1) {
					return true
				}
			}
		}
	}
	return false
}

// ResolveUse: a name checked or resolved, then opened.
var ResolveUse = &analysis.Analyzer{
	Name: "resolveuse",
	Doc: `report an untrusted path checked or resolved, then used by name

resolveuse reports filepath.EvalSymlinks, os.Readlink, os.Stat, os.Lstat
or an access(2) check of an untrusted path, followed by a call that acts on
the same path (or on what EvalSymlinks returned) by name: whatever the
check saw, the name can lead somewhere else by the time it is used. Act
on one held descriptor instead: open once (through a confine.Root) and
use f.Stat, or let the Root resolve. CERT FIO45-C and POS35-C; CWE-367
(time-of-check time-of-use).`,
	URL:      "https://github.com/pathguard/pathguard/blob/main/docs/pathvet.md#resolveuse",
	Requires: []*analysis.Analyzer{FlowAnalyzer},
	Run:      runResolveUse,
}

func runResolveUse(pass *analysis.Pass) (any, error) {
	e := flowOf(pass)
	r := &reporter{pass: pass}
	checks := e.sites(inMap(checkCalls))
	if len(checks) == 0 {
		return nil, nil
	}
	uses := e.sites(inMap(pathSinks))
	for _, c := range checks {
		carg := c.call.Common().Args[checkCalls[c.name]]
		if _, ok := carg.(*ssa.Const); ok {
			continue
		}
		var src *Source
		for _, u := range uses {
			if u.fn != c.fn || !before(c.call, u.call) {
				continue
			}
			for _, i := range pathSinks[u.name] {
				uarg := u.call.Common().Args[i]
				if key(uarg) != key(carg) && !dependsOn(uarg, c.call, 0) {
					continue
				}
				if src == nil {
					if src = e.Query(carg, c.call.Block(), Untrusted, true); src == nil {
						break
					}
				}
				r.report(analysis.Diagnostic{
					Pos: u.call.Pos(),
					Message: fmt.Sprintf("%s uses a path from %s by name after %s checked it (CWE-367): it can "+
						"lead elsewhere by now; open once through a confine.Root and use the open file",
						short(u.name), src.Label, short(c.name)),
				})
			}
			if src == nil {
				break
			}
		}
	}
	return nil, nil
}

// before reports whether a runs before b whenever b runs.
func before(a, b ssa.Instruction) bool {
	if a.Block() == b.Block() {
		for _, in := range a.Block().Instrs {
			if in == a {
				return true
			}
			if in == b {
				return false
			}
		}
	}
	return a.Block().Dominates(b.Block())
}

// dependsOn reports whether v is computed from a result of call.
func dependsOn(v ssa.Value, call ssa.CallInstruction, depth int) bool {
	if depth > 8 || v == nil {
		return false
	}
	if cv, ok := call.(*ssa.Call); ok && v == ssa.Value(cv) {
		return true
	}
	switch x := v.(type) {
	case *ssa.Extract:
		return dependsOn(x.Tuple, call, depth+1)
	case *ssa.BinOp:
		return dependsOn(x.X, call, depth+1) || dependsOn(x.Y, call, depth+1)
	case *ssa.Call:
		for _, a := range x.Call.Args {
			if dependsOn(a, call, depth+1) {
				return true
			}
		}
	case *ssa.Phi:
		for _, ev := range x.Edges {
			if dependsOn(ev, call, depth+1) {
				return true
			}
		}
	case *ssa.Convert:
		return dependsOn(x.X, call, depth+1)
	case *ssa.ChangeType:
		return dependsOn(x.X, call, depth+1)
	}
	return false
}

// Analyzers are the pathvet rules, one analyzer each.
var Analyzers = []*analysis.Analyzer{
	PathInject,
	ZipSlip,
	PrefixCheck,
	ResolveUse,
	PermWindow,
	ArchiveBomb,
	UntrustedRoot,
}
