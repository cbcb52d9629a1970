package testfs

import (
	"sync"
	"sync/atomic"
	"testing"

	"golang.org/x/sys/unix"
)

// Exchanger is the attacker of the race tests: a goroutine that exchanges
// two entries (renameat2 RENAME_EXCHANGE) over and over, so that a name
// is one of them, then the other, while the code under test resolves it.
type Exchanger struct {
	done  atomic.Bool
	swaps atomic.Int64
	wg    sync.WaitGroup
}

// Exchange starts exchanging the entries at paths a and b and returns
// once the first exchange is made, so the two start swapped. It skips t
// where renameat2(RENAME_EXCHANGE) is refused (an old kernel, a file
// system without it). The exchanges go on until Stop, which t's cleanup
// calls at the latest.
func Exchange(t testing.TB, a, b string) *Exchanger {
	t.Helper()
	if err := exchange(a, b); err != nil {
		t.Skipf("renameat2(RENAME_EXCHANGE): %v", err)
	}
	return start(t, func(int) bool { return exchange(a, b) == nil })
}

// Flicker starts exchanging the entry at path a with each of bs in turn
// and at once back, so that the name a is, for a moment each time, what
// one of bs was, while the tree at rest stays as it is. It skips t where
// renameat2(RENAME_EXCHANGE) is refused. Swaps counts the exchanges
// there and back as one.
func Flicker(t testing.TB, a string, bs ...string) *Exchanger {
	t.Helper()
	for _, b := range bs {
		if err := exchange(a, b); err != nil {
			t.Skipf("renameat2(RENAME_EXCHANGE): %v", err)
		}
		if err := exchange(a, b); err != nil {
			t.Fatalf("renameat2(RENAME_EXCHANGE) back: %v", err)
		}
	}
	return start(t, func(i int) bool {
		b := bs[i%len(bs)]
		if exchange(a, b) != nil {
			return false
		}
		return exchange(a, b) == nil // and back
	})
}

func exchange(a, b string) error {
	return unix.Renameat2(unix.AT_FDCWD, a, unix.AT_FDCWD, b, unix.RENAME_EXCHANGE)
}

// start runs turn(0), turn(1), ... on a goroutine until Stop, counting
// the turns that report success.
func start(t testing.TB, turn func(i int) bool) *Exchanger {
	x := &Exchanger{}
	x.wg.Add(1)
	go func() {
		defer x.wg.Done()
		for i := 0; !x.done.Load(); i++ {
			if turn(i) {
				x.swaps.Add(1)
			}
		}
	}()
	t.Cleanup(func() { x.Stop() })
	return x
}

// Swaps returns the number of exchanges the goroutine made so far (the
// first one, Exchange's own, is not counted).
func (x *Exchanger) Swaps() int64 { return x.swaps.Load() }

// Stop ends the exchanges, waits for the last one, and returns Swaps.
func (x *Exchanger) Stop() int64 {
	x.done.Store(true)
	x.wg.Wait()
	return x.swaps.Load()
}
