//go:build !linux

package main

import (
	"errors"
	"io"
)

// scanTree reports that scanning needs Linux: statx, O_PATH and the
// resolution engine's held descriptors.
func scanTree(rep *scanReport, progress io.Writer) {
	rep.Error = "scan " + rep.Root + ": " + errors.ErrUnsupported.Error()
	rep.ErrorKind = errorKind(errors.ErrUnsupported)
}

func isTerminal(w io.Writer) bool { return false }
