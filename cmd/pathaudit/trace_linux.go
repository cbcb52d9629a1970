package main

import (
	"golang.org/x/sys/unix"

	"github.com/pathguard/pathguard/internal/resolve"
	"github.com/pathguard/pathguard/internal/sys"
)

// traceWalk resolves rep.Path under rep.Root with the walk backend and
// the report's mode and flags, recording every step: openat2 resolves in
// one system call and shows none. It returns where the walk arrived and
// its steps, up to the error if there is one.
func traceWalk(rep *resolveReport) (string, []traceStep, error) {
	fd, err := sys.Openat(unix.AT_FDCWD, rep.Root, unix.O_PATH|unix.O_DIRECTORY, 0)
	if err != nil {
		return "", nil, err
	}
	defer sys.Close(fd)
	mode := resolve.Beneath
	if rep.Mode == "in-root" {
		mode = resolve.InRoot
	}
	var flags resolve.Flags
	if rep.NoSymlinks {
		flags |= resolve.NoSymlinks
	}
	if rep.NoXDev {
		flags |= resolve.NoXDev
	}
	r, err := resolve.New(fd, mode, flags, resolve.Walk)
	if err != nil {
		return "", nil, err
	}
	path, steps, err := r.Trace(rep.Path)
	out := make([]traceStep, 0, len(steps))
	for _, s := range steps {
		out = append(out, traceStep{Kind: s.Kind.String(), Name: s.Name, Target: s.Target, Path: s.Path, Rest: s.Rest, left: s.Left})
	}
	return path, out, err
}
