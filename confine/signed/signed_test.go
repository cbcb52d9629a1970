//go:build linux && !pathguard_osroot

package signed_test

import (
	"bytes"
	"encoding/base64"
	"errors"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/pathguard/pathguard/confine"
	"github.com/pathguard/pathguard/confine/signed"
	"github.com/pathguard/pathguard/internal/testfs"
)

const secret = "OUTSIDE-SECRET"

var key = bytes.Repeat([]byte{0x5a}, 32)

type config struct {
	name string
	opts []confine.Option
}

var configs = []config{
	{"Beneath/openat2", []confine.Option{confine.WithResolver(confine.ResolverOpenat2)}},
	{"Beneath/walk", []confine.Option{confine.WithResolver(confine.ResolverWalk)}},
	{"InRoot/openat2", []confine.Option{confine.InRoot(), confine.WithResolver(confine.ResolverOpenat2)}},
	{"InRoot/walk", []confine.Option{confine.InRoot(), confine.WithResolver(confine.ResolverWalk)}},
}

// each runs f for every mode and backend, on a fresh tree: base/outside
// holds the secret, base/root is the Root.
func each(t *testing.T, f func(t *testing.T, base string, r *confine.Root)) {
	for _, c := range configs {
		t.Run(c.name, func(t *testing.T) {
			base := testfs.New(t, "outside/f="+secret, "outside/pub/report="+secret,
				"root/pub/report=public", "root/private=private", "root/other=other")
			r, err := confine.OpenRoot(filepath.Join(base, "root"), c.opts...)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { r.Close() })
			f(t, base, r)
		})
	}
}

func signer(t *testing.T) *signed.Signer {
	t.Helper()
	s, err := signed.NewSigner(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func sign(t *testing.T, s *signed.Signer, r *confine.Root, name string) string {
	t.Helper()
	tok, err := s.Sign(r, name, time.Hour)
	if err != nil {
		t.Fatalf("Sign(%q) = %v", name, err)
	}
	return tok
}

// read opens token and returns the file's contents.
func read(s *signed.Signer, r *confine.Root, token string) (string, error) {
	f, err := s.Open(r, token)
	if err != nil {
		return "", err
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	return string(b), err
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestSignOpen(t *testing.T) {
	each(t, func(t *testing.T, base string, r *confine.Root) {
		s := signer(t)
		must(t, os.Symlink("pub/report", filepath.Join(base, "root/link")))
		for _, name := range []string{"pub/report", "link", "pub/../pub/report"} {
			tok := sign(t, s, r, name)
			if got, err := read(s, r, tok); err != nil || got != "public" {
				t.Errorf("Open(Sign(%q)) = %q, %v, want public", name, got, err)
			}
			if url.PathEscape(tok) != tok || url.QueryEscape(tok) != tok {
				t.Errorf("Sign(%q) = %q, not URL-safe", name, tok)
			}
		}
		// A link that is removed after signing does not matter: the token
		// names the file it led to.
		tok := sign(t, s, r, "link")
		must(t, os.Remove(filepath.Join(base, "root/link")))
		if got, err := read(s, r, tok); err != nil || got != "public" {
			t.Errorf("Open after the link it was signed through went = %q, %v, want public", got, err)
		}
		// A Root opened again on the same directory accepts the token.
		r2, err := confine.OpenRoot(filepath.Join(base, "root"))
		must(t, err)
		defer r2.Close()
		if got, err := read(s, r2, tok); err != nil || got != "public" {
			t.Errorf("Open on another Root of the same directory = %q, %v, want public", got, err)
		}
	})
}

// Between signing and download, the signed path is made to lead to
// another file, inside or outside the root, in every way the attacker
// can: the download is refused with ErrChanged, never served.
func TestOpenAfterSwap(t *testing.T) {
	root := func(base, p string) string { return filepath.Join(base, "root", p) }
	swaps := []struct {
		name string
		do   func(t *testing.T, base string)
	}{
		{"file replaced by a link inside", func(t *testing.T, base string) {
			must(t, os.Remove(root(base, "pub/report")))
			must(t, os.Symlink("../private", root(base, "pub/report")))
		}},
		{"file replaced by a link outside", func(t *testing.T, base string) {
			must(t, os.Remove(root(base, "pub/report")))
			must(t, os.Symlink("../../outside/f", root(base, "pub/report")))
		}},
		{"file replaced by an absolute link", func(t *testing.T, base string) {
			must(t, os.Remove(root(base, "pub/report")))
			must(t, os.Symlink(filepath.Join(base, "outside/f"), root(base, "pub/report")))
		}},
		{"directory replaced by a link outside", func(t *testing.T, base string) {
			must(t, os.Rename(root(base, "pub"), root(base, "old")))
			must(t, os.Symlink("../outside/pub", root(base, "pub")))
		}},
		{"directory replaced by a link inside", func(t *testing.T, base string) {
			must(t, os.Rename(root(base, "pub"), root(base, "old")))
			must(t, os.MkdirAll(root(base, "evil"), 0o755))
			must(t, os.WriteFile(root(base, "evil/report"), []byte("private"), 0o644))
			must(t, os.Symlink("evil", root(base, "pub")))
		}},
		{"renamed over", func(t *testing.T, base string) {
			must(t, os.Rename(root(base, "private"), root(base, "pub/report")))
		}},
		{"hard link of another file", func(t *testing.T, base string) {
			must(t, os.Remove(root(base, "pub/report")))
			must(t, os.Link(root(base, "private"), root(base, "pub/report")))
		}},
		{"deleted and recreated", func(t *testing.T, base string) {
			must(t, os.Remove(root(base, "pub/report")))
			must(t, os.WriteFile(root(base, "pub/report"), []byte("private"), 0o644))
		}},
		{"FIFO", func(t *testing.T, base string) {
			must(t, os.Remove(root(base, "pub/report")))
			must(t, unix.Mkfifo(root(base, "pub/report"), 0o644))
		}},
	}
	for _, sw := range swaps {
		t.Run(sw.name, func(t *testing.T) {
			each(t, func(t *testing.T, base string, r *confine.Root) {
				s := signer(t)
				tok := sign(t, s, r, "pub/report")
				sw.do(t, base)
				got, err := read(s, r, tok)
				if !errors.Is(err, confine.ErrChanged) {
					t.Errorf("Open after %s = %q, %v, want ErrChanged", sw.name, got, err)
				}
				if got != "" {
					t.Errorf("Open after %s served %q", sw.name, got)
				}
			})
		})
	}
}

// The signed path is exchanged with links to a file inside and outside,
// over and over, while the token is opened: every answer is the signed
// file or ErrChanged. It runs until both were seen many times.
func TestOpenRace(t *testing.T) {
	each(t, func(t *testing.T, base string, r *confine.Root) {
		s := signer(t)
		tok := sign(t, s, r, "pub/report")
		must(t, os.Symlink("../private", filepath.Join(base, "root/pub/in")))
		must(t, os.Symlink("../../outside/f", filepath.Join(base, "root/pub/out")))
		pub := filepath.Join(base, "root/pub")
		defer testfs.Flicker(t, filepath.Join(pub, "report"), filepath.Join(pub, "in"), filepath.Join(pub, "out")).Stop()
		var served, refused int
		deadline := time.Now().Add(60 * time.Second)
		for (served < 100 || refused < 100) && time.Now().Before(deadline) {
			got, err := read(s, r, tok)
			switch {
			case err == nil && got == "public":
				served++
			case errors.Is(err, confine.ErrChanged):
				refused++
			default:
				t.Errorf("Open during the exchange = %q, %v", got, err)
			}
			if got != "" && got != "public" {
				t.Fatalf("Open during the exchange served %q", got)
			}
		}
		if served < 100 || refused < 100 {
			t.Errorf("race not exercised: %d served, %d refused", served, refused)
		}
	})
}

// Anything but a token this Signer issued is ErrBadToken: every single
// bit flipped, cut short, extended, another key, not base64.
func TestBadToken(t *testing.T) {
	dir := testfs.New(t, "f=public")
	r, err := confine.OpenRoot(dir)
	must(t, err)
	defer r.Close()
	s := signer(t)
	tok := sign(t, s, r, "f")
	raw, err := base64.RawURLEncoding.DecodeString(tok)
	must(t, err)
	check := func(what, token string) {
		t.Helper()
		if got, err := read(s, r, token); !errors.Is(err, signed.ErrBadToken) {
			t.Errorf("Open(%s) = %q, %v, want ErrBadToken", what, got, err)
		}
	}
	for i := range raw {
		for bit := range 8 {
			b := bytes.Clone(raw)
			b[i] ^= 1 << bit
			check("bit "+string(rune('0'+bit))+" of byte flipped", base64.RawURLEncoding.EncodeToString(b))
		}
	}
	for n := range len(raw) {
		check("cut short", base64.RawURLEncoding.EncodeToString(raw[:n]))
	}
	check("extended", base64.RawURLEncoding.EncodeToString(append(bytes.Clone(raw), 0)))
	check("with padding", tok+"==")
	check("with one more character", tok+"A")
	check("standard base64", strings.NewReplacer("-", "+", "_", "/").Replace(tok)+"+/")
	check("empty", "")
	check("spaces", " "+tok)
	check("huge", strings.Repeat("A", 1<<20))
	other, err := signed.NewSigner(bytes.Repeat([]byte{0x5b}, 32))
	must(t, err)
	otherTok := sign(t, other, r, "f")
	check("another key's", otherTok)
	// A token that was valid, past its expiry and tampered with, is a
	// forgery first.
	signed.SetNow(t, func() time.Time { return time.Now().Add(2 * time.Hour) })
	b := bytes.Clone(raw)
	b[len(b)-1] ^= 1
	check("expired and tampered", base64.RawURLEncoding.EncodeToString(b))
}

func TestExpired(t *testing.T) {
	dir := testfs.New(t, "f=public")
	r, err := confine.OpenRoot(dir)
	must(t, err)
	defer r.Close()
	s := signer(t)
	start := time.Unix(1_800_000_000, 0)
	signed.SetNow(t, func() time.Time { return start })
	tok, err := s.Sign(r, "f", time.Minute)
	must(t, err)
	for _, c := range []struct {
		at   time.Duration
		want error
	}{{0, nil}, {59 * time.Second, nil}, {time.Minute, signed.ErrExpired}, {time.Hour, signed.ErrExpired}} {
		signed.SetNow(t, func() time.Time { return start.Add(c.at) })
		got, err := read(s, r, tok)
		if !errors.Is(err, c.want) || (c.want == nil && got != "public") {
			t.Errorf("Open %v after signing for a minute = %q, %v, want %v", c.at, got, err, c.want)
		}
	}
	for _, ttl := range []time.Duration{0, -time.Second} {
		if _, err := s.Sign(r, "f", ttl); !errors.Is(err, confine.ErrInvalid) {
			t.Errorf("Sign(ttl %v) = %v, want ErrInvalid", ttl, err)
		}
	}
}

func TestNewSignerKey(t *testing.T) {
	for _, n := range []int{0, 1, 16, 31} {
		if s, err := signed.NewSigner(make([]byte, n)); err == nil || s != nil {
			t.Errorf("NewSigner(%d-byte key) = %v, %v, want an error", n, s, err)
		}
	}
	k := bytes.Repeat([]byte{1}, 32)
	s, err := signed.NewSigner(k)
	if err != nil {
		t.Fatalf("NewSigner(32-byte key) = %v", err)
	}
	// The key is copied: changing the caller's slice changes nothing.
	dir := testfs.New(t, "f=public")
	r, err := confine.OpenRoot(dir)
	must(t, err)
	defer r.Close()
	tok := sign(t, s, r, "f")
	k[0] = 2
	if got, err := read(s, r, tok); err != nil || got != "public" {
		t.Errorf("Open after the caller changed its key slice = %q, %v", got, err)
	}
}

// Only regular files are signed; names the Root refuses stay refused.
func TestSignRefuses(t *testing.T) {
	each(t, func(t *testing.T, base string, r *confine.Root) {
		s := signer(t)
		must(t, unix.Mkfifo(filepath.Join(base, "root/fifo"), 0o644))
		must(t, os.Symlink("../outside/f", filepath.Join(base, "root/out")))
		for name, want := range map[string]error{
			"pub":     confine.ErrInvalid,
			".":       confine.ErrInvalid,
			"fifo":    confine.ErrSpecialFile,
			"missing": fs.ErrNotExist,
			"a\x00b":  confine.ErrInvalid,
		} {
			if tok, err := s.Sign(r, name, time.Hour); !errors.Is(err, want) {
				t.Errorf("Sign(%q) = %q, %v, want %v", name, tok, err, want)
			}
		}
		// Beneath refuses the escape; InRoot reads ../outside/f as
		// /outside/f inside the root, which does not exist.
		if tok, err := s.Sign(r, "out", time.Hour); err == nil {
			t.Errorf("Sign(out) = %q, want an error", tok)
		}
	})
}

// BenchmarkOpen measures a download's cost: MAC, FileID, OpenID (an
// O_PATH lookup, statx, name_to_handle_at, the procfs reopen), against
// BenchmarkRootOpen, a plain Root.Open of the same name.
func BenchmarkOpen(b *testing.B) {
	dir := testfs.New(b, "pub/report=public")
	r, err := confine.OpenRoot(dir)
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	s, err := signed.NewSigner(key)
	if err != nil {
		b.Fatal(err)
	}
	tok, err := s.Sign(r, "pub/report", time.Hour)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		f, err := s.Open(r, tok)
		if err != nil {
			b.Fatal(err)
		}
		f.Close()
	}
}

func BenchmarkRootOpen(b *testing.B) {
	dir := testfs.New(b, "pub/report=public")
	r, err := confine.OpenRoot(dir)
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	for b.Loop() {
		f, err := r.Open("pub/report")
		if err != nil {
			b.Fatal(err)
		}
		f.Close()
	}
}
