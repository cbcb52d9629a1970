// Command signedlink hands out expiring download links for files in a
// directory, each bound to the file it was made for, not to its name.
//
//	SIGNEDLINK_KEY=$(head -c 32 /dev/urandom | xxd -p -c 64) \
//	  go run ./examples/signedlink -dir /srv/files -addr 127.0.0.1:8081
//	curl 'http://127.0.0.1:8081/sign?name=reports/2026.pdf'   # prints /d/TOKEN
//	curl -O 'http://127.0.0.1:8081/d/TOKEN'
//
// A link made by signing the path string would serve whatever the path
// leads to at download time: a symlink or another file put there after
// signing. These links carry a confine/signed token over the file's
// identity (confine.FileID), so the download is refused (410 Gone) once
// the name leads anywhere else. A link that was tampered with or made
// with another key is 403, an expired one 410.
//
// /sign is open to anyone who can reach the server: in a real service it
// sits behind the service's own authentication. The key comes from
// SIGNEDLINK_KEY (hex, 32 bytes or more); without it a random key is made
// at start, and links die with the process.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log"
	"mime"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path"
	"path/filepath"
	"syscall"
	"time"

	"github.com/pathguard/pathguard/confine"
	"github.com/pathguard/pathguard/confine/signed"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv("SIGNEDLINK_KEY"), os.Stderr, nil); err != nil {
		fmt.Fprintln(os.Stderr, "signedlink:", err)
		os.Exit(1)
	}
}

// run parses args, serves until ctx is done, and calls ready, if not nil,
// with the address it listens on. hexKey is the signing key in hex, or
// "" for a random one.
func run(ctx context.Context, args []string, hexKey string, stderr io.Writer, ready func(addr string)) error {
	fl := flag.NewFlagSet("signedlink", flag.ContinueOnError)
	fl.SetOutput(stderr)
	addr := fl.String("addr", "127.0.0.1:8081", "address to listen on")
	dir := fl.String("dir", ".", "directory whose files links are made for")
	ttl := fl.Duration("ttl", time.Hour, "how long a link is valid")
	if err := fl.Parse(args); err != nil {
		return err
	}
	key := make([]byte, signed.MinKeySize)
	if hexKey != "" {
		var err error
		if key, err = hex.DecodeString(hexKey); err != nil {
			return fmt.Errorf("SIGNEDLINK_KEY is not hex: %v", err)
		}
	} else if _, err := rand.Read(key); err != nil {
		return err
	}
	s, err := signed.NewSigner(key)
	if err != nil {
		return err
	}
	root, err := confine.OpenRoot(*dir, confine.NoSpecialFiles())
	if err != nil {
		return err
	}
	defer root.Close()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	logger := log.New(stderr, "signedlink: ", log.LstdFlags)
	srv := &http.Server{
		Handler:           newHandler(root, s, *ttl, logger),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          logger,
	}
	logger.Printf("links for %s on http://%s", *dir, ln.Addr())
	if ready != nil {
		ready(ln.Addr().String())
	}
	go func() {
		<-ctx.Done()
		shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(shut)
	}()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func newHandler(root *confine.Root, s *signed.Signer, ttl time.Duration, logger *log.Logger) http.Handler {
	mux := http.NewServeMux()
	// GET /sign?name=NAME answers with the link's path, /d/TOKEN.
	mux.HandleFunc("GET /sign", func(w http.ResponseWriter, r *http.Request) {
		name := r.URL.Query().Get("name")
		token, err := s.Sign(root, name, ttl)
		if err != nil {
			fail(w, logger, err)
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintf(w, "/d/%s\n", token)
	})
	// GET /d/TOKEN serves the file the token was made for, if it still
	// is the file at that path.
	mux.HandleFunc("GET /d/{token}", func(w http.ResponseWriter, r *http.Request) {
		f, err := s.Open(root, r.PathValue("token"))
		if err != nil {
			fail(w, logger, err)
			return
		}
		defer f.Close()
		fi, err := f.Stat()
		if err != nil {
			fail(w, logger, err)
			return
		}
		w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": path.Base(filepath.ToSlash(f.Name()))}))
		http.ServeContent(w, r, "", fi.ModTime(), f)
	})
	return mux
}

// fail answers with the status an error deserves; the message names the
// condition, never a path on the server.
func fail(w http.ResponseWriter, logger *log.Logger, err error) {
	code, msg := http.StatusInternalServerError, "internal error"
	switch {
	case errors.Is(err, signed.ErrBadToken):
		code, msg = http.StatusForbidden, "invalid link"
	case errors.Is(err, signed.ErrExpired):
		code, msg = http.StatusGone, "link expired"
	case errors.Is(err, confine.ErrChanged):
		code, msg = http.StatusGone, "the file this link was made for is no longer there"
	case errors.Is(err, confine.ErrInvalid):
		code, msg = http.StatusBadRequest, "bad file name, or not a regular file"
	case errors.Is(err, confine.ErrEscape), errors.Is(err, confine.ErrSymlink),
		errors.Is(err, confine.ErrSpecialFile), errors.Is(err, syscall.ELOOP), errors.Is(err, fs.ErrPermission):
		code, msg = http.StatusForbidden, "forbidden"
	case errors.Is(err, fs.ErrNotExist), errors.Is(err, syscall.ENOTDIR):
		code, msg = http.StatusNotFound, "not found"
	default:
		logger.Print(err)
	}
	http.Error(w, msg, code)
}
