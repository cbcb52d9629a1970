package securepath

import "testing"

// setBeforePublish installs f as the hook WriteFile calls just before it
// publishes its temporary name, until the test ends.
func setBeforePublish(t *testing.T, f func(tmp string)) {
	old := beforePublish
	beforePublish = f
	t.Cleanup(func() { beforePublish = old })
}
