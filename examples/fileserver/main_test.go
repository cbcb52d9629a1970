//go:build linux

package main

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sys/unix"

	"github.com/pathguard/pathguard/internal/testfs"
)

const secret = "OUTSIDE-SECRET-91c2"

// start runs the server on 127.0.0.1 with args and returns its base URL;
// it is stopped at the end of the test.
func start(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	addr := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, append([]string{"-addr", "127.0.0.1:0"}, args...), io.Discard, func(a string) { addr <- a })
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

// attacker sends raw request targets, exactly as written.
type attacker struct {
	t      *testing.T
	base   string
	client *http.Client
}

func (a *attacker) do(method, raw string, body string) (int, string) {
	a.t.Helper()
	req, err := http.NewRequest(method, a.base+"/", strings.NewReader(body))
	if err != nil {
		a.t.Fatal(err)
	}
	req.URL.Opaque = raw // not cleaned by the client
	resp, err := a.client.Do(req)
	if err != nil {
		a.t.Fatalf("%s %.60s: %v", method, raw, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// A tree with a secret outside the served directory, and links inside
// that point at it.
func tree(t *testing.T) (base, root string) {
	base = testfs.New(t, "outside/secret="+secret, "outside/dir/f="+secret,
		"root/pub/f=public", "root/up/f=public",
		"root/esc => ../outside/secret", "root/escd => ../outside",
		"root/swaplink => ../outside/dir", "root/loop => loop")
	// Absolute links lead into this test's own outside tree, never to a
	// file of the machine: a broken server under test would write there.
	testfs.Make(t, base, "root/abs => "+filepath.Join(base, "outside/secret"),
		"root/absd => "+filepath.Join(base, "outside"))
	return base, filepath.Join(base, "root")
}

// The attacks of the assignment: "..", encoded traversal, absolute names,
// NUL, 5000-byte names, planted links; GET and PUT. Nothing outside is
// read or written, and no answer is a 500.
func TestAttacks(t *testing.T) {
	base, root := tree(t)
	outside := filepath.Join(base, "outside")
	must(t, unix.Mkfifo(filepath.Join(root, "fifo"), 0o666))
	before := testfs.Snapshot(t, outside)
	a := &attacker{t, start(t, "-dir", root, "-upload"), &http.Client{Timeout: 10 * time.Second}}

	if code, body := a.do("GET", "/pub/f", ""); code != 200 || body != "public" {
		t.Fatalf("GET /pub/f = %d %q, want the file", code, body)
	}
	if code, _ := a.do("PUT", "/pub/new", "uploaded"); code != 201 {
		t.Fatalf("PUT /pub/new = %d, want 201", code)
	}
	if b, err := os.ReadFile(filepath.Join(root, "pub/new")); err != nil || string(b) != "uploaded" {
		t.Fatalf("after PUT /pub/new: %q, %v", b, err)
	}
	names := []string{
		"/../outside/secret", "/../../outside/secret", "/pub/../../outside/secret",
		"/..%2foutside%2fsecret", "/%2e%2e/outside/secret", "/%2e%2e%2foutside%2fsecret",
		"/pub/..%2f..%2foutside%2fsecret", "/..%5coutside%5csecret", "/%252e%252e/outside/secret",
		"/" + filepath.Join(outside, "secret"), "//" + filepath.Join(outside, "secret"),
		"/pub/f%00", "/%00", "/pub%00/../../outside/secret",
		"/" + strings.Repeat("a", 5000), "/pub/" + strings.Repeat("b", 5000), "/" + strings.Repeat("c/", 2500),
		"/esc", "/escd/secret", "/escd/dir/f", "/escd/", "/abs", "/absd/secret", "/absd/new", "/loop", "/swaplink/f", "/fifo",
	}
	for _, raw := range names {
		for _, m := range []string{"GET", "HEAD", "PUT"} {
			code, body := a.do(m, raw, "PWNED")
			if code >= 500 {
				t.Errorf("%s %.70s = %d, want a refusal (4xx)", m, raw, code)
			}
			if strings.Contains(body, secret) {
				t.Errorf("%s %.70s = %d with the secret in the body", m, raw, code)
			}
			if m == "PUT" && code < 300 {
				t.Logf("PUT %.70s = %d (inside the root)", raw, code)
			}
		}
	}
	if diff := cmp.Diff(before, testfs.Snapshot(t, outside)); diff != "" {
		t.Errorf("outside changed: %s", diff)
	}
}

// A directory and an outward link are exchanged while GETs and PUTs go
// through it: the inside file is served or refused, the outside one never
// read, never written. It runs to a count of served requests and swaps.
func TestSwapDuringRequests(t *testing.T) {
	base, root := tree(t)
	outside := filepath.Join(base, "outside")
	before := testfs.Snapshot(t, outside)
	a := &attacker{t, start(t, "-dir", root, "-upload"), &http.Client{Timeout: 10 * time.Second}}

	swap := testfs.Exchange(t, filepath.Join(root, "up"), filepath.Join(root, "swaplink"))
	var served, refused int
	deadline := time.Now().Add(60 * time.Second)
	for (served < 100 || refused < 100 || swap.Swaps() < 1000) && time.Now().Before(deadline) {
		for _, raw := range []string{"/up/f", "/swaplink/f"} {
			code, body := a.do("GET", raw, "")
			if strings.Contains(body, secret) {
				t.Fatalf("GET %s during the swap = %d with the secret", raw, code)
			}
			if code >= 500 {
				t.Errorf("GET %s during the swap = %d", raw, code)
			}
			if code == 200 {
				served++
			} else {
				refused++
			}
			code, _ = a.do("PUT", raw, "PWNED")
			if code >= 500 {
				t.Errorf("PUT %s during the swap = %d", raw, code)
			}
		}
	}
	swaps := swap.Stop()
	if served < 100 || refused < 100 {
		t.Errorf("race not exercised: %d served, %d refused, %d swaps", served, refused, swaps)
	}
	if diff := cmp.Diff(before, testfs.Snapshot(t, outside)); diff != "" {
		t.Errorf("outside changed: %s", diff)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
