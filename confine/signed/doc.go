// Package signed issues download links that are bound to a file, not to a
// path string.
//
// A server that hands out links usually signs a path with an HMAC and,
// when the link comes back, opens whatever that path means by then. The
// signature covers the string, not the file: a symlink or another file
// put at the path between signing and download is served instead (the
// "signed path" symlink attack). A [Signer] signs a [confine.FileID]
// instead: the path the name really led to, inside a [confine.Root], and
// the identity of the file found there (device, inode, and a birth time
// or file handle, so a recycled inode number does not match). [Signer.Open]
// serves the file only if the path still leads, inside the root, to that
// very file; anything else is [confine.ErrChanged].
//
//	s, err := signed.NewSigner(key) // 32 bytes or more, from crypto/rand
//	token, err := s.Sign(root, "reports/2026.pdf", time.Hour)
//	// later, from the link:
//	f, err := s.Open(root, token)
//
// A token is URL-safe base64 (RFC 4648, no padding) of a version byte, the
// expiry in Unix seconds, the FileID's text form and an HMAC-SHA256 tag
// over all of them.
//
// # Threat model
//
// The attacker holds tokens, can make and alter any string and present it
// as a token, can time the server's answers, and can create, remove,
// rename and exchange entries inside the root at any moment, between
// signing and download and during the download itself. The attacker does
// not know the key.
//
// # Guarantees
//
//   - Open returns only a regular file that Sign was asked for: the same
//     device, inode and birth time or file handle, reached through the
//     signed path inside the root. A link planted at the path, a file
//     renamed over it, a file deleted and recreated (even with the same
//     inode number), a directory on the way swapped for a link: each is
//     ErrChanged, and nothing else is opened, FIFOs and devices included.
//   - A token that this Signer did not issue is ErrBadToken, whatever it
//     holds; its tag is compared in constant time before any other field
//     is believed, so an expired token's forgery is ErrBadToken too.
//   - A token is refused with ErrExpired once its expiry has passed.
//
// # Limitations
//
//   - Tokens are signed, not encrypted: the path, device and inode number
//     can be read by whoever holds the token.
//   - A token names a file, not its contents: a file rewritten in place
//     (same inode) is served with its new contents. A writer who must
//     not be able to change what a link serves should replace files by
//     rename, which gives them a new identity.
//   - A token is a bearer token until it expires: there is no revocation
//     list; rotate the key (which voids every token) or remove the file.
//   - The device number can change across a reboot or remount; tokens
//     issued before then fail closed with ErrChanged.
//   - Linux only: elsewhere Sign and Open fail with errors.ErrUnsupported,
//     as confine's Identify and OpenID do.
package signed
