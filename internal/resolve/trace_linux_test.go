package resolve

import (
	"errors"
	"fmt"
	"strings"
	"syscall"
	"testing"

	"github.com/pathguard/pathguard/internal/testfs"
)

// stepString is a compact form of steps: "kind:name[>target]@path".
func stepString(steps []Step) string {
	var b []string
	for _, s := range steps {
		e := s.Kind.String() + ":" + s.Name
		if s.Target != "" {
			e += ">" + s.Target
		}
		e += "@" + s.Path
		if s.Rest != "" {
			e += "+" + s.Rest
		}
		b = append(b, e)
	}
	return strings.Join(b, " ")
}

// TestTrace: the steps of a traced walk, and its answer the same as
// Resolve's under every backend.
func TestTrace(t *testing.T) {
	dir := testfs.New(t,
		"a/b/f",
		"a/up => ../a/b",
		"abs => /etc",
		"out => a/../../x",
		"dl => nothere/y",
	)
	for _, tc := range []struct {
		name  string
		mode  Mode
		want  string // the steps
		path  string // the answer, "" on error
		isErr error
	}{
		{name: "a/b/f", want: "enter:a@a enter:b@a/b enter:f@a/b/f", path: "a/b/f"},
		{name: "a/up/f", want: "enter:a@a link:up>../a/b@a dotdot:..@. enter:a@a enter:b@a/b enter:f@a/b/f", path: "a/b/f"},
		{name: "a/../a/b", want: "enter:a@a dotdot:..@. enter:a@a enter:b@a/b", path: "a/b"},
		{name: "abs/passwd", want: "link:abs>/etc@.", isErr: ErrEscape},
		{name: "abs", mode: InRoot, want: "link:abs>/etc@. missing:etc@.", isErr: syscall.ENOENT},
		{name: "out", want: "link:out>a/../../x@. enter:a@a dotdot:..@. dotdot:..@.", isErr: ErrEscape},
		{name: "dl/z", want: "link:dl>nothere/y@. missing:nothere@.+y/z", isErr: syscall.ENOENT},
		{name: "a/new/deeper", want: "enter:a@a missing:new@a+deeper", isErr: syscall.ENOENT},
	} {
		for key, r := range newEngines(t, dir, 0) {
			if r.Mode() != tc.mode {
				continue
			}
			t.Run(key+"/"+tc.name, func(t *testing.T) {
				path, steps, err := r.Trace(tc.name)
				if got := stepString(steps); got != tc.want {
					t.Errorf("Trace(%q) steps:\n got %s\nwant %s", tc.name, got, tc.want)
				}
				if tc.isErr != nil {
					if !errors.Is(err, tc.isErr) {
						t.Errorf("Trace(%q) = %q, %v; want %v", tc.name, path, err, tc.isErr)
					}
				} else if err != nil || path != tc.path {
					t.Errorf("Trace(%q) = %q, %v; want %q", tc.name, path, err, tc.path)
				}
				// The walk traced must agree with the Engine's own answer.
				rp, rerr := r.Resolve(tc.name)
				if rp != path || fmt.Sprint(rerr) != fmt.Sprint(err) {
					t.Errorf("Resolve(%q) = %q, %v; Trace says %q, %v", tc.name, rp, rerr, path, err)
				}
			})
		}
	}
}
