package checks

import (
	"fmt"
	"go/constant"
	"os"

	"golang.org/x/tools/go/analysis"
	"golang.org/x/tools/go/ssa"
)

// PermWindow: a file created with one mode, then chmod-ed by name.
var PermWindow = &analysis.Analyzer{
	Name: "permwindow",
	Doc: `report a file written, then given its permissions or owner by name

permwindow reports os.Chmod, os.Chown or os.Lchown of a name after the
same function wrote a file under that name with os.WriteFile, os.Create or
os.OpenFile without O_EXCL (the credential-file pattern: write the secret,
then chmod 0600). Between the write and the chmod the file is readable
with its first mode, and whoever can write in the directory can put a
symlink at the name first: the write goes through it, and the chmod by
name changes the link's target. Create the file with its final mode and
O_EXCL (or securepath.WriteFile, which also refuses links and never shows
a partial file), and use f.Chmod on the open file. This rule needs no
untrusted name: the attacker is whoever can write in the directory. CERT
FIO15-C and POS01-C; CWE-732 (incorrect permission assignment) and CWE-59
(link following).`,
	URL:      "https://github.com/pathguard/pathguard/blob/main/docs/pathvet.md#permwindow",
	Requires: []*analysis.Analyzer{FlowAnalyzer},
	Run:      runPermWindow,
}

// writeCalls create or truncate a file by name: the index of the name,
// and of the flag argument (-1: none, the call always may create).
var writeCalls = map[string][2]int{
	"os.WriteFile":        {0, -1},
	"os.Create":           {0, -1},
	"os.OpenFile":         {0, 1},
	"io/ioutil.WriteFile": {0, -1},
}

// modeCalls change a file's mode or owner by name: the index of the name.
var modeCalls = map[string]int{
	"os.Chmod":  0,
	"os.Chown":  0,
	"os.Lchown": 0,
}

func runPermWindow(pass *analysis.Pass) (any, error) {
	e := flowOf(pass)
	r := &reporter{pass: pass}
	writes := e.sites(inMap(writeCalls))
	if len(writes) == 0 {
		return nil, nil
	}
	for _, m := range e.sites(inMap(modeCalls)) {
		marg := m.call.Common().Args[modeCalls[m.name]]
		for _, w := range writes {
			if w.fn != m.fn || !before(w.call, m.call) {
				continue
			}
			ix := writeCalls[w.name]
			args := w.call.Common().Args
			if key(args[ix[0]]) != key(marg) {
				continue
			}
			if ix[1] >= 0 && !mayCreate(args[ix[1]]) {
				continue
			}
			r.report(analysis.Diagnostic{
				Pos: m.call.Pos(),
				Message: fmt.Sprintf("%s by name after %s wrote the file (CWE-732, CWE-59): the file is open "+
					"to its first mode until then, and a symlink planted at the name redirects both; create it "+
					"with its final mode and O_EXCL (securepath.WriteFile) and use the open file's Chmod",
					short(m.name), short(w.name)),
			})
			break
		}
	}
	return nil, nil
}

// mayCreate reports whether an OpenFile flag may create or truncate a
// file without O_EXCL. A flag that is not a constant may.
func mayCreate(flag ssa.Value) bool {
	c, ok := flag.(*ssa.Const)
	if !ok || c.Value == nil || c.Value.Kind() != constant.Int {
		return true
	}
	v, exact := constant.Int64Val(c.Value)
	if !exact {
		return true
	}
	if v&int64(os.O_EXCL) != 0 {
		return false
	}
	return v&int64(os.O_CREATE|os.O_TRUNC|os.O_WRONLY|os.O_RDWR) != 0
}
