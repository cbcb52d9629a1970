//go:build linux && !pathguard_osroot

package confine_test

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// A file server on 127.0.0.1 serving a Root through
// http.FileServerFS(root.FS()), asked by a real http.Client for paths
// that try to leave the root: encoded dots and slashes, double slashes,
// links planted inside that point out, and a directory exchanged with an
// outward link while requests are in flight. No response may carry a
// byte of the secret outside.
func TestHTTPFileServerFS(t *testing.T) {
	const secret = "TOPSECRET-7f3c"
	opsEach(t, func(t *testing.T, c opsConfig) {
		base := opsOutsideTree(t)
		out, rootDir := filepath.Join(base, "outside"), filepath.Join(base, "root")
		for name, data := range map[string]string{"outside/secret": secret, "outside/dir/f": secret, "outside/f": secret} {
			if err := os.WriteFile(filepath.Join(base, name), []byte(data), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		for _, e := range [][2]string{{"pub/f", "public"}, {"swap/f", "public"}} {
			p := filepath.Join(rootDir, e[0])
			os.MkdirAll(filepath.Dir(p), 0o755)
			if err := os.WriteFile(p, []byte(e[1]), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.Symlink("../outside", filepath.Join(rootDir, "swaplink")); err != nil {
			t.Fatal(err)
		}
		before := opsWorld(t, out)
		r := opsOpen(t, rootDir, c)
		srv := httptest.NewServer(http.FileServerFS(r.FS()))
		defer srv.Close()
		client := &http.Client{Timeout: 5 * time.Second}

		get := func(raw string) (int, []byte) {
			t.Helper()
			req, err := http.NewRequest("GET", srv.URL+"/", nil)
			if err != nil {
				t.Fatal(err)
			}
			req.URL.Opaque = raw // sent as is, not cleaned by the client
			resp, err := client.Do(req)
			if err != nil {
				t.Fatalf("GET %s: %v", raw, err)
			}
			defer resp.Body.Close()
			b, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatalf("GET %s: reading: %v", raw, err)
			}
			return resp.StatusCode, b
		}
		if code, b := get("/pub/f"); code != 200 || string(b) != "public" {
			t.Fatalf("GET /pub/f = %d %q, want the public file", code, b)
		}
		attacks := []string{
			"/..%2foutside%2fsecret",
			"/..%2f..%2foutside/secret",
			"/%2e%2e/outside/secret",
			"/%2e%2e%2foutside%2fsecret",
			"/pub/..%2f..%2foutside%2fsecret",
			"/../outside/secret",
			"/./../outside/secret",
			"//outside/secret",
			"/pub//..//..//outside/secret",
			"/..%5coutside%5csecret",
			"/escf",
			"/escf/",
			"/esc/secret",
			"/esc/",
			"/esc",
			"/esc/dir/f",
			"/absf",
			"/abs/secret",
			"/a/upf",
			"/a/up/secret",
			"/a/up/",
			"/swaplink/secret",
			"/swaplink/f",
		}
		for _, raw := range attacks {
			if code, b := get(raw); bytes.Contains(b, []byte(secret)) {
				t.Errorf("GET %s = %d with the secret in the body", raw, code)
			}
		}
		// A directory exchanged with an outward link mid-flight.
		served := 0
		cveRace(t, rootDir, "swap", "swaplink", func() bool {
			for _, raw := range []string{"/swap/f", "/swaplink/f", "/swap/"} {
				code, b := get(raw)
				if bytes.Contains(b, []byte(secret)) {
					t.Errorf("GET %s during the swap = %d with the secret in the body", raw, code)
					return false
				}
				if string(b) == "public" {
					served++
				}
			}
			return true
		})
		if served == 0 {
			t.Errorf("the public file was never served during the swap: the race did not exercise the server")
		}
		opsUnchanged(t, out, before)
	})
}
