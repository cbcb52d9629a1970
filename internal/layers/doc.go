// Package layers holds no code, only a test: it keeps pathguard's import
// graph in the order of its design, top to bottom,
//
//	internal/sys      syscall wrappers
//	internal/resolve  the resolution engine
//	canon             lexical and symlink-aware canonicalization
//	confine           Root and Allowlist
//	securepath        the secure-directory check and the whole flow
//	cmd/pathaudit     the command line
//
// A package may import only packages above it in this list. fuzz and
// internal/layers hold only tests, and internal/testfs may be imported by
// _test.go files only; _test.go files are otherwise exempt. A directory
// holding Go files that the list does not name fails the test too, so a
// new package must be given its place.
//
// The test reads the files with go/parser, not `go list`, so it sees every
// file whatever its build constraints: a Linux-only or Windows-only import
// is held to the same order.
package layers
