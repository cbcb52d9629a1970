// Command pathvet reports unsafe handling of file paths in Go code: names
// from an HTTP request, the command line, the environment or an archive
// that reach a file system call, string-prefix containment checks,
// check-then-use races, permission windows on new files, unbounded
// archive copies and Roots opened where untrusted input says.
//
// Usage:
//
//	pathvet [-json] [-fix] [-<rule>=false] ./...
//	go vet -vettool=$(command -v pathvet) ./...
//
// Each rule is its own analyzer; `pathvet help <rule>` prints its
// documentation, with the CERT rule and CWE entry behind it. See
// docs/pathvet.md in the pathguard repository.
package main

import (
	"golang.org/x/tools/go/analysis/multichecker"

	"github.com/pathguard/pathguard/cmd/pathvet/internal/checks"
)

func main() {
	multichecker.Main(checks.Analyzers...)
}
