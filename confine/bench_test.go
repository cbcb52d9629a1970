package confine_test

import (
	"os"
	"path/filepath"
	"testing"

	securejoin "github.com/cyphar/filepath-securejoin"

	"github.com/pathguard/pathguard/confine"
	"github.com/pathguard/pathguard/internal/testfs"
)

// The benchmarks open the same names through pathguard's two backends and
// through its peers, in one run, so the results can be compared as ratios
// with benchstat. They assert nothing about speed.

var benchNames = map[string]string{
	"shallow": "f",
	"deep":    "a/b/c/d/e/f",
	"links":   "l1/f", // l1 => l2 => a/b/c/d/e
}

func benchTree(b *testing.B) string {
	return testfs.New(b, "f=x", "a/b/c/d/e/f=x", "l2 => a/b/c/d/e", "l1 => l2")
}

func BenchmarkOpen(b *testing.B) {
	dir := benchTree(b)
	for _, kind := range []string{"shallow", "deep", "links"} {
		name := benchNames[kind]
		for _, rv := range []confine.Resolver{confine.ResolverOpenat2, confine.ResolverWalk} {
			b.Run(kind+"/pathguard-"+rv.String(), func(b *testing.B) {
				r, err := confine.OpenRoot(dir, confine.WithResolver(rv))
				if err != nil {
					b.Fatal(err)
				}
				defer r.Close()
				for b.Loop() {
					f, err := r.Open(name)
					if err != nil {
						b.Fatal(err)
					}
					f.Close()
				}
			})
		}
		b.Run(kind+"/os.Root", func(b *testing.B) {
			r, err := os.OpenRoot(dir)
			if err != nil {
				b.Fatal(err)
			}
			defer r.Close()
			for b.Loop() {
				f, err := r.Open(name)
				if err != nil {
					b.Fatal(err)
				}
				f.Close()
			}
		})
		// SecureJoin then os.Open: what a caller of the string API does.
		// It is racy by nature (the string can be redirected before the
		// open); it is measured only as the peer users compare against.
		b.Run(kind+"/securejoin+open", func(b *testing.B) {
			for b.Loop() {
				p, err := securejoin.SecureJoin(dir, name)
				if err != nil {
					b.Fatal(err)
				}
				f, err := os.Open(p)
				if err != nil {
					b.Fatal(err)
				}
				f.Close()
			}
		})
		b.Run(kind+"/plain-open", func(b *testing.B) {
			p := filepath.Join(dir, name)
			for b.Loop() {
				f, err := os.Open(p)
				if err != nil {
					b.Fatal(err)
				}
				f.Close()
			}
		})
	}
}
