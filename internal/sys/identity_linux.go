package sys

import "golang.org/x/sys/unix"

// NameToHandleAt is name_to_handle_at(2) with EINTR retried, returning
// the handle's type and opaque bytes (the buffer grows to fit, up to the
// kernel's MAX_HANDLE_SZ). The mount id it also reports is dropped: it
// may be reused once a mount is gone.
func NameToHandleAt(dirfd int, path string, flags int) (handleType int32, handle []byte, err error) {
	for {
		fh, _, err := unix.NameToHandleAt(dirfd, path, flags)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return 0, nil, err
		}
		return fh.Type(), append([]byte(nil), fh.Bytes()...), nil
	}
}
