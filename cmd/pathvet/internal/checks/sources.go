package checks

import (
	"go/types"
	"strings"

	"golang.org/x/tools/go/ssa"
)

// Kind says where untrusted data came from. A query asks for a set of
// kinds, so each rule sees only the sources it is about.
type Kind uint8

const (
	// Remote: an HTTP request (its fields, methods, URL, form, header).
	Remote Kind = 1 << iota
	// Args: os.Args and the values of package flag.
	Args
	// Env: the environment (os.Getenv, os.LookupEnv, os.Environ).
	Env
	// Archive: the Name or Linkname of a tar or zip header.
	Archive
	// Stream: the bytes of an archive entry or a decompressor, which
	// the archive's author sizes.
	Stream

	// Untrusted is every kind of untrusted name.
	Untrusted = Remote | Args | Env | Archive
)

// Source says where a tainted value came from, for the message.
type Source struct {
	Kind  Kind
	Label string
}

// funcName is the full name of a call's static callee as types prints
// it ("os.Open", "(*os.File).Chmod"), of the interface method of an
// invoke call ("(io.Reader).Read"), or "" for other dynamic calls.
func funcName(c *ssa.CallCommon) string {
	if c.IsInvoke() {
		return c.Method.FullName()
	}
	if f := c.StaticCallee(); f != nil {
		if o, ok := f.Object().(*types.Func); ok {
			return o.FullName()
		}
		if f.Origin() != nil {
			if o, ok := f.Origin().Object().(*types.Func); ok {
				return o.FullName()
			}
		}
	}
	if b, ok := c.Value.(*ssa.Builtin); ok {
		return b.Name()
	}
	return ""
}

// The path of the pathguard module's packages, which the rules know.
const (
	canonPkg   = "github.com/pathguard/pathguard/canon"
	confinePkg = "github.com/pathguard/pathguard/confine"
)

// sourceCalls are functions whose results are untrusted whatever their
// arguments.
var sourceCalls = map[string]Source{
	"os.Getenv":              {Env, "os.Getenv"},
	"os.LookupEnv":           {Env, "os.LookupEnv"},
	"os.Environ":             {Env, "os.Environ"},
	"syscall.Getenv":         {Env, "syscall.Getenv"},
	"flag.Arg":               {Args, "flag.Arg"},
	"flag.Args":              {Args, "flag.Args"},
	"flag.String":            {Args, "flag.String"},
	"flag.Func":              {Args, "flag.Func"},
	"(*flag.FlagSet).Arg":    {Args, "flag.FlagSet.Arg"},
	"(*flag.FlagSet).Args":   {Args, "flag.FlagSet.Args"},
	"(*flag.FlagSet).String": {Args, "flag.FlagSet.String"},

	// Readers of an archive entry or of a decompressor: the archive's
	// author decides how many bytes come out.
	"compress/gzip.NewReader":        {Stream, "gzip.NewReader"},
	"compress/zlib.NewReader":        {Stream, "zlib.NewReader"},
	"compress/zlib.NewReaderDict":    {Stream, "zlib.NewReaderDict"},
	"compress/flate.NewReader":       {Stream, "flate.NewReader"},
	"compress/flate.NewReaderDict":   {Stream, "flate.NewReaderDict"},
	"compress/bzip2.NewReader":       {Stream, "bzip2.NewReader"},
	"compress/lzw.NewReader":         {Stream, "lzw.NewReader"},
	"archive/tar.NewReader":          {Stream, "tar.NewReader"},
	"(*archive/zip.File).Open":       {Stream, "zip.File.Open"},
	"(*archive/zip.File).OpenRaw":    {Stream, "zip.File.OpenRaw"},
	"(*archive/zip.Reader).Open":     {Stream, "zip.Reader.Open"},
	"(*archive/zip.ReadCloser).Open": {Stream, "zip.ReadCloser.Open"},
}

// flagVarCalls store a command-line value through their first pointer
// argument (after the receiver for FlagSet methods).
var flagVarCalls = map[string]int{
	"flag.StringVar":            0,
	"flag.TextVar":              0,
	"flag.Var":                  0,
	"(*flag.FlagSet).StringVar": 1,
	"(*flag.FlagSet).TextVar":   1,
	"(*flag.FlagSet).Var":       1,
}

// boundCalls end a Stream: what comes out is bounded by the caller.
var boundCalls = map[string]bool{
	"io.LimitReader":          true,
	"net/http.MaxBytesReader": true,
}

// containCalls return a name that stays inside its root: SecureJoin
// resolves the symlinks in the joined path under the root.
var containCalls = map[string]bool{
	canonPkg + ".Join":    true,
	canonPkg + ".Resolve": true,
	"github.com/cyphar/filepath-securejoin.SecureJoin":    true,
	"github.com/cyphar/filepath-securejoin.SecureJoinVFS": true,
}

// baseCalls return the last element of a name: one component, never a
// path, but ".." stays "..". Joined under a directory that is its parent:
// harmless for a call that needs a file (Open, Create, ReadFile), not for
// one that acts on a directory too (RemoveAll, Chmod, Rename...).
var baseCalls = map[string]bool{
	"path/filepath.Base": true,
	"path.Base":          true,
}

// localChecks are the lexical checks that sanitize a name: the index
// of the checked argument. Clean, Abs, Rel, EvalSymlinks and HasPrefix
// are deliberately absent.
var localChecks = map[string]int{
	"path/filepath.IsLocal": 0,
	canonPkg + ".IsLocal":   0,
	canonPkg + ".Within":    1,
}

// remoteType reports whether a value of type t is a piece of an HTTP
// request: parameters of these types are untrusted.
func remoteType(t types.Type) bool {
	if p, ok := t.(*types.Pointer); ok {
		t = p.Elem()
	}
	n, ok := t.(*types.Named)
	if !ok || n.Obj().Pkg() == nil {
		return false
	}
	switch n.Obj().Pkg().Path() + "." + n.Obj().Name() {
	case "net/http.Request", "net/url.URL", "net/url.Values", "net/http.Header",
		"mime/multipart.Form", "mime/multipart.FileHeader", "mime/multipart.Part",
		// The request contexts of common web frameworks: Param, Query,
		// PostForm, FormFile and the rest come from the client.
		"github.com/gin-gonic/gin.Context",
		"github.com/labstack/echo/v4.Context", "github.com/labstack/echo.Context",
		"github.com/gofiber/fiber/v2.Ctx", "github.com/gofiber/fiber/v3.Ctx",
		"github.com/go-chi/chi/v5.Context":
		return true
	}
	return false
}

// archiveField reports whether field i of the struct that t (or *t)
// names is an archive entry's name or link target.
func archiveField(t types.Type, i int) (string, bool) {
	if p, ok := t.Underlying().(*types.Pointer); ok {
		t = p.Elem()
	}
	n, ok := t.(*types.Named)
	if !ok || n.Obj().Pkg() == nil {
		return "", false
	}
	s, ok := n.Underlying().(*types.Struct)
	if !ok || i >= s.NumFields() {
		return "", false
	}
	f := s.Field(i).Name()
	switch n.Obj().Pkg().Path() + "." + n.Obj().Name() {
	case "archive/tar.Header":
		if f == "Name" || f == "Linkname" {
			return "tar header " + f, true
		}
	case "archive/zip.FileHeader":
		if f == "Name" {
			return "zip header Name", true
		}
	}
	return "", false
}

// taintable reports whether a value of type t can carry a name: numbers
// and booleans cannot (strconv.Atoi of a form value is safe in a path).
func taintable(t types.Type) bool {
	switch u := t.Underlying().(type) {
	case *types.Basic:
		return u.Info()&types.IsString != 0
	case *types.Signature:
		return false
	}
	return true
}

// isReader reports whether t has a Read([]byte) (int, error) method.
func isReader(t types.Type) bool {
	obj, _, _ := types.LookupFieldOrMethod(t, true, nil, "Read")
	f, ok := obj.(*types.Func)
	if !ok {
		return false
	}
	sig := f.Type().(*types.Signature)
	return sig.Params().Len() == 1 && sig.Results().Len() == 2 &&
		strings.HasPrefix(sig.Params().At(0).Type().String(), "[]byte")
}
