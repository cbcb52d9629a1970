// Package fuzz holds only fuzz targets, for go test -fuzz, across
// pathguard's packages; it has no API. Each target asserts properties
// (idempotence, confinement, agreement with an oracle), not just the
// absence of a panic, and is seeded from the unit tables of the package
// it exercises, so that go test ./fuzz/ runs every seed as a test.
//
// Crashers found by the fuzzer are committed under testdata/fuzz/FuzzX/.
package fuzz
