// Command fileserver serves a directory over HTTP without ever reading or
// writing outside it, whatever the names in the requests and whatever
// links someone plants in the directory while it runs.
//
//	go run ./examples/fileserver -dir /srv/files -addr 127.0.0.1:8080 -upload
//
// GET and HEAD are served by http.FileServerFS on the directory's
// confine.Root (Root.FS): every name is resolved on the held directory
// descriptor, links are followed only while they stay inside, and FIFOs,
// sockets and devices are refused before they are opened (NoSpecialFiles),
// so a FIFO planted in the tree cannot hang a request. With -upload, PUT
// writes the request body to the named file through Root.OpenFile, with
// the same rules. An escape or a refused file is 403, a name that cannot
// exist 404, never a 500.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/pathguard/pathguard/confine"
)

// maxUpload bounds the body of one PUT.
const maxUpload = 32 << 20

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stderr, nil); err != nil {
		fmt.Fprintln(os.Stderr, "fileserver:", err)
		os.Exit(1)
	}
}

// run parses args, serves until ctx is done, and calls ready, if not nil,
// with the address it listens on.
func run(ctx context.Context, args []string, stderr io.Writer, ready func(addr string)) error {
	fl := flag.NewFlagSet("fileserver", flag.ContinueOnError)
	fl.SetOutput(stderr)
	addr := fl.String("addr", "127.0.0.1:8080", "address to listen on")
	dir := fl.String("dir", ".", "directory to serve")
	upload := fl.Bool("upload", false, "accept PUT uploads into the directory")
	if err := fl.Parse(args); err != nil {
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
	logger := log.New(stderr, "fileserver: ", log.LstdFlags)
	srv := &http.Server{
		Handler:           newHandler(root, *upload, logger),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          logger,
	}
	logger.Printf("serving %s on http://%s (uploads: %v)", *dir, ln.Addr(), *upload)
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

type handler struct {
	root   *confine.Root
	files  http.Handler
	upload bool
	log    *log.Logger
}

func newHandler(root *confine.Root, upload bool, logger *log.Logger) http.Handler {
	return &handler{root: root, files: http.FileServerFS(root.FS()), upload: upload, log: logger}
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.Method == http.MethodGet || r.Method == http.MethodHead:
		h.files.ServeHTTP(w, r)
	case r.Method == http.MethodPut && h.upload:
		h.put(w, r)
	default:
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	}
}

// put writes the body to the file the path names, created or truncated.
// The name is the decoded URL path as the client sent it, "..",
// encoded slashes and all: the Root, not this code, decides whether it
// stays inside.
func (h *handler) put(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimPrefix(r.URL.Path, "/")
	if name == "" || strings.HasSuffix(name, "/") {
		http.Error(w, "a file name is needed", http.StatusBadRequest)
		return
	}
	f, err := h.root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		h.fail(w, err)
		return
	}
	_, err = io.Copy(f, http.MaxBytesReader(w, r.Body, maxUpload))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			http.Error(w, "upload too large", http.StatusRequestEntityTooLarge)
			return
		}
		h.fail(w, err)
		return
	}
	w.WriteHeader(http.StatusCreated)
}

// fail answers with the status an error from the Root deserves. The
// message names the condition, never a path on the server.
func (h *handler) fail(w http.ResponseWriter, err error) {
	code, msg := status(err)
	if code == http.StatusInternalServerError {
		h.log.Print(err)
	}
	http.Error(w, msg, code)
}

// status maps the Root's errors: what the client's name caused is a 4xx.
func status(err error) (int, string) {
	switch {
	case errors.Is(err, confine.ErrInvalid):
		return http.StatusBadRequest, "bad file name"
	case errors.Is(err, confine.ErrEscape), errors.Is(err, confine.ErrSymlink),
		errors.Is(err, confine.ErrCrossDevice), errors.Is(err, confine.ErrSpecialFile),
		errors.Is(err, syscall.ELOOP), errors.Is(err, fs.ErrPermission):
		return http.StatusForbidden, "forbidden"
	case errors.Is(err, fs.ErrNotExist), errors.Is(err, syscall.ENOTDIR),
		errors.Is(err, syscall.ENAMETOOLONG):
		return http.StatusNotFound, "not found"
	case errors.Is(err, syscall.EISDIR), errors.Is(err, fs.ErrExist):
		return http.StatusConflict, "a directory is in the way"
	}
	return http.StatusInternalServerError, "internal error"
}
