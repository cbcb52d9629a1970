// Package gin is a stand-in for the web framework in the analyzer tests.
package gin

import "mime/multipart"

type Context struct{}

func (c *Context) Query(key string) string                             { return "" }
func (c *Context) Param(key string) string                             { return "" }
func (c *Context) FormFile(name string) (*multipart.FileHeader, error) { return nil, nil }
func (c *Context) File(filepath string)                                {}
func (c *Context) SaveUploadedFile(file *multipart.FileHeader, dst string) error {
	return nil
}
func (c *Context) String(code int, s string) {}
