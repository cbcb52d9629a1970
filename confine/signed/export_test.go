package signed

import (
	"testing"
	"time"
)

// SetNow replaces the clock until the end of the test.
func SetNow(t *testing.T, f func() time.Time) {
	old := now
	now = f
	t.Cleanup(func() { now = old })
}
