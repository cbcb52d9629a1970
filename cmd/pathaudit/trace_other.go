//go:build !linux

package main

import "errors"

// traceWalk needs the walk backend, which is Linux's.
func traceWalk(rep *resolveReport) (string, []traceStep, error) {
	return "", nil, errors.ErrUnsupported
}
