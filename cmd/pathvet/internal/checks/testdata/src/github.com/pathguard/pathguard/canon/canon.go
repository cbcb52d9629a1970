// Package canon is a stand-in for pathguard's canon in the analyzer tests:
// the analyzers know its functions by name.
package canon

func IsLocal(p string) bool               { return p != "" }
func Within(root, p string) bool          { return root != "" && p != "" }
func Join(root, p string) (string, error) { return root + "/" + p, nil }
