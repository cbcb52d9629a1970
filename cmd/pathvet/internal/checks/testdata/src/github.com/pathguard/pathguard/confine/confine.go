// Package confine is a stand-in for pathguard's confine in the analyzer
// tests.
package confine

import "os"

type Root struct{}

func OpenRoot(dir string) (*Root, error)                             { return &Root{}, nil }
func (r *Root) Open(name string) (*os.File, error)                   { return nil, nil }
func (r *Root) WriteFile(name string, b []byte, p os.FileMode) error { return nil }
