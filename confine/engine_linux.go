//go:build !pathguard_osroot

package confine

import "github.com/pathguard/pathguard/internal/resolve"

// securepath walks beneath a Root with the Root's own Engine (its mode
// and flags), which it reaches through internal/resolve, never through
// public API.
func init() {
	resolve.EngineOf = func(v any) *resolve.Engine {
		if r, ok := v.(*Root); ok && r != nil && r.r != nil {
			return r.r.eng
		}
		return nil
	}
}
