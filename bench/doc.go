// Package bench holds pathguard's side-by-side benchmarks: the same work
// done through os, the raw openat2(2) floor, os.Root, SecureJoin + os,
// pathrs-lite, and confine.Root under both backends and both modes, in one
// process, so the results can be read as ratios to each operation's floor.
//
// It holds only tests, so the peers it measures stay out of the library's
// own test binaries. Run it with .ci/bench (a table of medians as ratios to
// the floor, with benchstat's spread); docs/performance.md explains the
// floors and records the figures of one run.
package bench
