package signed

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"

	"github.com/pathguard/pathguard/confine"
)

var (
	// ErrBadToken means the token is not one this Signer issued: not
	// URL-safe base64, too short or too long, of an unknown version, or
	// with a MAC that does not match (compared in constant time). Nothing
	// in the token is believed, its expiry included, before the MAC is.
	ErrBadToken = errors.New("signed: bad token")

	// ErrExpired means the token was issued by this Signer but its expiry
	// has passed. Nothing was opened.
	ErrExpired = errors.New("signed: token expired")
)

// MinKeySize is the shortest key NewSigner accepts: 32 bytes, the size of
// an HMAC-SHA256 output (RFC 2104 section 3: a shorter key weakens the MAC).
const MinKeySize = 32

const (
	// version is the first byte of every token; Open refuses any other.
	version = 1
	// macSize is the length of an HMAC-SHA256 tag.
	macSize = sha256.Size
	// headerSize is the version byte and the expiry (Unix seconds, int64
	// big-endian).
	headerSize = 1 + 8
	// maxIDText bounds the FileID text a token may carry: a path shorter
	// than PATH_MAX (4096) plus the identity fields and the longest file
	// handle in hex, with room to spare.
	maxIDText = 4096 + 512
	// maxToken bounds the encoded token Open decodes at all, so a huge
	// string costs nothing but a length check.
	maxToken = (headerSize + maxIDText + macSize + 2) / 3 * 4
)

// context separates the MACs of this package from any other use of the
// same key, and tokens of one version from another's.
const context = "pathguard/confine/signed v1\x00"

// encoding is URL-safe base64 without padding (RFC 4648 section 5): a
// token can stand in a URL path or query as is, with no escaping.
var encoding = base64.RawURLEncoding

// A Signer issues and checks download tokens with one key. It is safe for
// concurrent use.
type Signer struct {
	key []byte
}

// NewSigner returns a Signer that uses key (copied) for HMAC-SHA256. Keys
// shorter than MinKeySize (32 bytes) are refused; the key should come
// from crypto/rand and be kept secret, and whoever holds it can mint
// tokens for any file the Root can reach.
func NewSigner(key []byte) (*Signer, error) {
	if len(key) < MinKeySize {
		return nil, fmt.Errorf("signed: key of %d bytes; at least %d are needed", len(key), MinKeySize)
	}
	return &Signer{key: append([]byte(nil), key...)}, nil
}

// now is the clock; tests replace it.
var now = time.Now

// Sign returns a token for the regular file that name leads to in root,
// valid for ttl (rounded up to a whole second). The token carries the
// file's confine.FileID (the path name really led to, and the file's
// identity: device, inode, birth time or file handle) and the expiry,
// under an HMAC-SHA256 of both. The token is not encrypted: whoever holds
// it can read the path, device and inode number in it.
//
// Sign refuses a directory, device, FIFO or socket, a ttl that is not
// positive, and every name the Root refuses.
func (s *Signer) Sign(root *confine.Root, name string, ttl time.Duration) (string, error) {
	if ttl <= 0 {
		return "", &fs.PathError{Op: "sign", Path: name, Err: fmt.Errorf("signed: ttl %v is not positive: %w", ttl, confine.ErrInvalid)}
	}
	id, err := root.Identify(name)
	if err != nil {
		return "", err
	}
	// Open what was identified, as a download will, and look at the
	// opened file: a token is only ever issued for a regular file that
	// OpenID returns now.
	f, err := root.OpenID(id)
	if err != nil {
		return "", err
	}
	fi, err := f.Stat()
	f.Close()
	if err != nil {
		return "", &fs.PathError{Op: "sign", Path: name, Err: err}
	}
	if !fi.Mode().IsRegular() {
		return "", &fs.PathError{Op: "sign", Path: name, Err: fmt.Errorf("signed: not a regular file: %w", confine.ErrInvalid)}
	}
	text, err := id.MarshalText()
	if err != nil {
		return "", &fs.PathError{Op: "sign", Path: name, Err: err}
	}
	if len(text) > maxIDText {
		return "", &fs.PathError{Op: "sign", Path: name, Err: fmt.Errorf("signed: FileID text too long: %w", confine.ErrInvalid)}
	}
	// Round up, so a token is never valid for less than ttl.
	exp := now().Add(ttl + time.Second - 1).Unix()
	msg := make([]byte, headerSize, headerSize+len(text)+macSize)
	msg[0] = version
	binary.BigEndian.PutUint64(msg[1:headerSize], uint64(exp))
	msg = append(msg, text...)
	msg = append(msg, s.mac(msg)...)
	return encoding.EncodeToString(msg), nil
}

// mac returns HMAC-SHA256(key, context || msg).
func (s *Signer) mac(msg []byte) []byte {
	h := hmac.New(sha256.New, s.key)
	h.Write([]byte(context))
	h.Write(msg)
	return h.Sum(nil)
}

// Open checks token and opens, for reading, the file it was issued for in
// root, only if that is still the very file: it is confine.Root.OpenID on
// the token's FileID, so the file is judged on a descriptor (identity and
// type) before it is opened, and a name swapped for a link, a file
// replaced or renamed over, or a recycled inode number are refused.
//
// Errors: ErrBadToken for anything that is not a token this Signer issued
// (the MAC is checked, in constant time, before anything else in the
// token is read); ErrExpired when its time has passed; an error matching
// confine.ErrChanged (and fs.ErrNotExist) when the file is no longer the
// one signed; otherwise the *fs.PathError of OpenID. root should be the
// Root the token was signed on (or one opened on the same directory with
// the same options): the path is resolved in it.
func (s *Signer) Open(root *confine.Root, token string) (*os.File, error) {
	id, err := s.check(token)
	if err != nil {
		return nil, err
	}
	f, err := root.OpenID(id)
	if err != nil {
		return nil, err
	}
	// Sign issues tokens for regular files only, and OpenID compares the
	// identity: only a forged token with the key could name anything
	// else. Refuse it all the same.
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		f.Close()
		return nil, ErrBadToken
	}
	return f, nil
}

// check verifies token's MAC, version and expiry, and returns its FileID.
func (s *Signer) check(token string) (confine.FileID, error) {
	var id confine.FileID
	if len(token) > maxToken {
		return id, ErrBadToken
	}
	msg, err := encoding.Strict().DecodeString(token)
	if err != nil || len(msg) < headerSize+1+macSize {
		return id, ErrBadToken
	}
	body, tag := msg[:len(msg)-macSize], msg[len(msg)-macSize:]
	// hmac.Equal takes the same time wherever the first difference is:
	// no byte of a valid tag can be learnt by timing forgeries.
	if !hmac.Equal(tag, s.mac(body)) {
		return id, ErrBadToken
	}
	if body[0] != version {
		return id, ErrBadToken
	}
	exp := int64(binary.BigEndian.Uint64(body[1:headerSize]))
	if now().Unix() >= exp {
		return id, ErrExpired
	}
	if err := id.UnmarshalText(body[headerSize:]); err != nil {
		return id, ErrBadToken
	}
	return id, nil
}
