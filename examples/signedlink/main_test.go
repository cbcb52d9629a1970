//go:build linux

package main

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pathguard/pathguard/internal/testfs"
)

const (
	secret  = "OUTSIDE-SECRET-5e1d"
	private = "PRIVATE-INSIDE-77aa"
	testKey = "5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a"
)

// start runs the server on 127.0.0.1 and returns its base URL; it is
// stopped at the end of the test.
func start(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	addr := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, append([]string{"-addr", "127.0.0.1:0"}, args...), testKey, io.Discard, func(a string) { addr <- a })
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
	})
	select {
	case a := <-addr:
		return "http://" + a
	case err := <-done:
		t.Fatalf("run: %v", err)
	}
	return ""
}

var client = &http.Client{Timeout: 10 * time.Second}

func get(t *testing.T, u string) (int, string) {
	t.Helper()
	resp, err := client.Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// link asks the server for a link to name.
func link(t *testing.T, base, name string) string {
	t.Helper()
	code, body := get(t, base+"/sign?name="+url.QueryEscape(name))
	if code != 200 || !strings.HasPrefix(body, "/d/") {
		t.Fatalf("GET /sign?name=%s = %d %q", name, code, body)
	}
	return base + strings.TrimSpace(body)
}

func tree(t *testing.T) (base, root string) {
	base = testfs.New(t, "outside/f="+secret, "outside/pub/report="+secret,
		"root/pub/report=public report", "root/private="+private)
	return base, filepath.Join(base, "root")
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// The signed-path attack: a link is handed out, then the attacker, who
// can write in the served tree, swaps the file for a symlink to another
// file (inside or outside) before downloading. The download is refused.
func TestSwapBetweenSigningAndDownload(t *testing.T) {
	for _, swap := range []struct {
		name string
		do   func(root string)
	}{
		{"link to a private file inside", func(root string) {
			must(t, os.Remove(filepath.Join(root, "pub/report")))
			must(t, os.Symlink("../private", filepath.Join(root, "pub/report")))
		}},
		{"link to a file outside", func(root string) {
			must(t, os.Remove(filepath.Join(root, "pub/report")))
			must(t, os.Symlink("../../outside/f", filepath.Join(root, "pub/report")))
		}},
		{"directory swapped for a link outside", func(root string) {
			must(t, os.Rename(filepath.Join(root, "pub"), filepath.Join(root, "old")))
			must(t, os.Symlink("../outside/pub", filepath.Join(root, "pub")))
		}},
		{"private file renamed over it", func(root string) {
			must(t, os.Rename(filepath.Join(root, "private"), filepath.Join(root, "pub/report")))
		}},
		{"deleted and recreated", func(root string) {
			must(t, os.Remove(filepath.Join(root, "pub/report")))
			must(t, os.WriteFile(filepath.Join(root, "pub/report"), []byte(private), 0o644))
		}},
	} {
		t.Run(swap.name, func(t *testing.T) {
			_, root := tree(t)
			base := start(t, "-dir", root)
			l := link(t, base, "pub/report")
			if code, body := get(t, l); code != 200 || body != "public report" {
				t.Fatalf("GET link before the swap = %d %q, want the report", code, body)
			}
			swap.do(root)
			code, body := get(t, l)
			if code != http.StatusGone {
				t.Errorf("GET link after the swap = %d %q, want 410", code, body)
			}
			if strings.Contains(body, private) || strings.Contains(body, secret) {
				t.Errorf("GET link after the swap served %q", body)
			}
		})
	}
}

// The file and links to the private and outside files are exchanged
// over and over while the link is downloaded: each download is the
// report or a refusal. It runs to a count of both.
func TestSwapDuringDownloads(t *testing.T) {
	_, root := tree(t)
	must(t, os.Symlink("../private", filepath.Join(root, "pub/in")))
	must(t, os.Symlink("../../outside/f", filepath.Join(root, "pub/out")))
	base := start(t, "-dir", root)
	l := link(t, base, "pub/report")
	pub := filepath.Join(root, "pub")
	defer testfs.Flicker(t, filepath.Join(pub, "report"), filepath.Join(pub, "in"), filepath.Join(pub, "out")).Stop()
	var served, refused int
	deadline := time.Now().Add(60 * time.Second)
	for (served < 100 || refused < 100) && time.Now().Before(deadline) {
		code, body := get(t, l)
		switch {
		case code == 200 && body == "public report":
			served++
		case code == http.StatusGone:
			refused++
		default:
			t.Fatalf("GET link during the swap = %d %q", code, body)
		}
	}
	if served < 100 || refused < 100 {
		t.Errorf("race not exercised: %d served, %d refused", served, refused)
	}
}

// Links that were not made by this server, or were altered, are 403;
// names that escape cannot be signed; an expired link is 410.
func TestRefusals(t *testing.T) {
	base, root := tree(t)
	must(t, os.Symlink("../outside/f", filepath.Join(root, "esc")))
	srv := start(t, "-dir", root, "-ttl", "1s")
	l := link(t, srv, "pub/report")
	tok := l[strings.LastIndex(l, "/")+1:]
	flip := []byte(tok)
	flip[len(flip)/2] ^= 'A' ^ 'B'
	if flip[len(flip)/2] == tok[len(tok)/2] {
		t.Fatal("no change made")
	}
	for _, bad := range []string{"x", "AAAA", string(flip), tok[:len(tok)-1], strings.Repeat("A", 5000)} {
		if code, body := get(t, srv+"/d/"+bad); code != http.StatusForbidden {
			t.Errorf("GET /d/%.40s = %d %q, want 403", bad, code, body)
		}
	}
	for _, name := range []string{"esc", "../outside/f", filepath.Join(base, "outside/f"), "pub", "missing", "a\x00b"} {
		code, body := get(t, srv+"/sign?name="+url.QueryEscape(name))
		if code == 200 || code >= 500 {
			t.Errorf("GET /sign?name=%q = %d %q, want a refusal", name, code, body)
		}
	}
	// The link was made for one second (rounded up to the next whole
	// second): it is refused within a few, whatever the clock.
	deadline := time.Now().Add(10 * time.Second)
	code := 200
	for code == 200 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
		code, _ = get(t, l)
	}
	if code != http.StatusGone {
		t.Errorf("GET of a 1s link after 10s = %d, want 410", code)
	}
}
