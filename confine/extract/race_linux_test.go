//go:build !pathguard_osroot

package extract_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/pathguard/pathguard/confine"
	"github.com/pathguard/pathguard/confine/extract"
	"github.com/pathguard/pathguard/internal/testfs"
)

// raceRefusals is how many entries a racing link must have made the
// extraction refuse, and raceWrites how many it must have let through,
// before TestRacedLink stops: the test runs to a count of events, not a
// duration.
const (
	raceRefusals = 20
	raceWrites   = 20
	raceRounds   = 5000 // a bound, should the machine never interleave
)

// TestRacedLink: while the extraction runs, a goroutine exchanges the
// directory the entries go into with a link to the canary directory
// (renameat2 RENAME_EXCHANGE), over and over. Entries are written in the
// real directory, under whichever name it has at the time, or refused
// with ErrSymlink; nothing is ever written through the link.
func TestRacedLink(t *testing.T) {
	for _, b := range backends {
		t.Run(b.String(), func(t *testing.T) {
			w := newWorld(t, "a/", "l => {out}")
			r := w.open(t, b)
			pa, pl := filepath.Join(w.dir, "a"), filepath.Join(w.dir, "l")
			swap := testfs.Exchange(t, pa, pl)
			refused, written, rounds := 0, 0, 0
			for ; rounds < raceRounds && (refused < raceRefusals || written < raceWrites); rounds++ {
				var ents []ent
				for i := range 8 {
					ents = append(ents, file(fmt.Sprintf("a/r%d-%d", rounds, i), "pwned"))
				}
				ents = append(ents, dir(fmt.Sprintf("a/d%d/", rounds), 0o755), file(fmt.Sprintf("a/d%d/f", rounds), "pwned"))
				rep, err := extract.Tar(r, bytes.NewReader(tarOf(t, ents...)), extract.SkipRefused())
				if err != nil {
					t.Fatalf("round %d: %v", rounds, err)
				}
				for _, e := range rep.Entries {
					switch {
					case e.Action == extract.Written:
						written++
					case errors.Is(e.Err, confine.ErrSymlink):
						refused++
					case errors.Is(e.Err, os.ErrNotExist), errors.Is(e.Err, unix.ENOTDIR):
						// a/dN/ made in the real directory, which then moved
					default:
						t.Errorf("round %d: %+v", rounds, e)
					}
				}
				if w.changed(t) {
					t.Fatalf("round %d: outside the root changed", rounds)
				}
			}
			t.Logf("%d rounds, %d swaps, %d entries written, %d refused", rounds, swap.Stop(), written, refused)
			if refused < raceRefusals || written < raceWrites {
				t.Errorf("the race did not happen: %d written, %d refused after %d rounds", written, refused, rounds)
			}
		})
	}
}
