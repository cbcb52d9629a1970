package extract

import (
	"bufio"
	"bytes"
	"compress/bzip2"
	"compress/gzip"
	"io"
)

// Decompress returns a reader of what r holds, decompressed when it
// starts with a gzip (1f 8b) or bzip2 ("BZh") header, as is otherwise.
// Only the standard library's decompressors are used. The limits of an
// extraction count bytes written, not bytes decompressed: use WithContext
// to bound the time spent reading entries that are skipped.
func Decompress(r io.Reader) (io.Reader, error) {
	br := bufio.NewReader(r)
	magic, err := br.Peek(3)
	if err != nil && err != io.EOF {
		return nil, err
	}
	switch {
	case bytes.HasPrefix(magic, []byte{0x1f, 0x8b}):
		return gzip.NewReader(br)
	case bytes.HasPrefix(magic, []byte("BZh")):
		return bzip2.NewReader(br), nil
	}
	return br, nil
}
