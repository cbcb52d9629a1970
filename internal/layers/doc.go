// Package layers holds no code, only a test: it keeps pathguard's import
// graph in the order of the layer list in docs/design.md, which it reads:
// a package may import only packages above it in that list. An entry
// ending in "/" (examples/) stands for each directory below it, and those
// may not import each other. fuzz and internal/layers hold only tests, and
// internal/testfs may be imported by _test.go files only; _test.go files
// are otherwise exempt. A second test keeps every call of x/sys/unix and
// syscall functions in internal/sys, _test.go files and internal/testfs
// (test code) excepted. A directory holding Go files that the list does
// not place fails the test too, so a new package must be given its place
// in docs/design.md first.
//
// The test reads the files with go/parser, not `go list`, so it sees every
// file whatever its build constraints: a Linux-only or Windows-only import
// is held to the same order.
package layers
