package gin

import (
	"net/http"
	"os"
	"path/filepath"

	"github.com/gin-gonic/gin"
)

const base = "/srv/files"

func download(c *gin.Context) {
	c.File(filepath.Join(base, c.Query("f"))) // want `reaches gin.Context.File`
}

func upload(c *gin.Context) {
	fh, err := c.FormFile("file")
	if err != nil {
		return
	}
	c.SaveUploadedFile(fh, filepath.Join(base, fh.Filename)) // want `reaches gin.Context.SaveUploadedFile`
	// filepath.Base leaves one component: ".." at worst, the parent
	// directory, which no file call can open or create as a file.
	c.SaveUploadedFile(fh, filepath.Join(base, filepath.Base(fh.Filename)))
}

func stdUpload(w http.ResponseWriter, r *http.Request) {
	_, hdr, err := r.FormFile("file")
	if err != nil {
		return
	}
	os.Create(filepath.Join(base, hdr.Filename)) // want `reaches os.Create`
	os.Create(filepath.Join(base, filepath.Base(hdr.Filename)))
	// But ".." is the parent directory itself for calls that act on one.
	os.RemoveAll(filepath.Join(base, filepath.Base(r.FormValue("d")))) // want `reaches os.RemoveAll`
}
