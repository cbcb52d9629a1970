package testfs

import (
	"fmt"
	"os"
	"syscall"
)

// State describes every entry under dir (dir itself included): what
// Snapshot says of it, and also its inode, link count, owner, and
// modification and change times. Any creation, removal, rename, write,
// truncation, chmod, chown or new hard link under dir shows in it, even
// one undone since (the change time moves on). Reading does not. It
// returns an error instead of failing a test, so a test's goroutines can
// call it while they race.
func State(dir string) (map[string]string, error) {
	m, err := describe(dir, func(fi os.FileInfo) string {
		st := fi.Sys().(*syscall.Stat_t)
		return fmt.Sprintf(" ino=%d nlink=%d uid=%d gid=%d mtime=%d.%09d ctime=%d.%09d",
			st.Ino, st.Nlink, st.Uid, st.Gid, st.Mtim.Sec, st.Mtim.Nsec, st.Ctim.Sec, st.Ctim.Nsec)
	})
	if err != nil {
		return nil, fmt.Errorf("testfs: state of %s: %w", dir, err)
	}
	return m, nil
}
