//go:build !pathguard_osroot

package confine

import (
	"golang.org/x/sys/unix"

	"github.com/pathguard/pathguard/internal/resolve"
	"github.com/pathguard/pathguard/internal/sys"
)

// maxCreateTries bounds how often openNoSpecial starts again when a name
// appears or vanishes between its lookup and its O_EXCL create.
const maxCreateTries = 16

// openFd resolves name and opens it with flag, as OpenFile asks: through
// openNoSpecial under NoSpecialFiles. A final link refused because flag
// has O_NOFOLLOW is ErrSymlink.
func (r *root) openFd(name string, flag int, perm uint32) (int, error) {
	var fd int
	var err error
	if r.opts.noSpecial && flag&unix.O_PATH == 0 {
		fd, err = r.openNoSpecial(name, flag, perm)
	} else {
		fd, err = r.eng.Open(name, flag, perm)
	}
	if err == unix.ELOOP && flag&unix.O_NOFOLLOW != 0 && r.isLink(name) {
		// open(2) with O_NOFOLLOW says ELOOP for a final link, the same
		// errno as 40 links in a row or a magic link: tell the caller
		// which, as NoSymlinks would. ErrSymlink matches ELOOP still.
		err = resolve.ErrSymlink
	}
	return fd, err
}

// openNoSpecial is open under NoSpecialFiles: the type is judged on an
// O_PATH fd, then that fd's file is reopened through procfs (reopen), so
// the file judged is the file opened.
func (r *root) openNoSpecial(name string, flag int, perm uint32) (int, error) {
	if flag&(unix.O_CREAT|unix.O_EXCL) == unix.O_CREAT|unix.O_EXCL {
		// Only ever makes a new regular file; never opens one that exists.
		return r.eng.Open(name, flag, perm)
	}
	pathFlags := unix.O_PATH | flag&(unix.O_NOFOLLOW|unix.O_DIRECTORY)
	for range maxCreateTries {
		pfd, err := r.eng.Open(name, pathFlags, 0)
		if err == unix.ENOENT && flag&unix.O_CREAT != 0 {
			// Nothing there: create with O_EXCL, so whatever appeared
			// since (a FIFO, a link) is not opened. EEXIST means it did,
			// or that the name is a dangling link: look again.
			fd, err := r.eng.Open(name, flag|unix.O_EXCL, perm)
			if err == unix.EEXIST {
				continue
			}
			return fd, err
		}
		if err != nil {
			return -1, err
		}
		fd, err := r.reopenChecked(pfd, flag)
		sys.Close(pfd)
		return fd, err
	}
	return -1, unix.EEXIST
}

// reopenChecked opens the file the O_PATH fd pfd refers to with flag if
// it is a regular file or a directory, and refuses it with ErrSpecialFile
// otherwise.
func (r *root) reopenChecked(pfd int, flag int) (int, error) {
	var st unix.Stat_t
	if err := sys.Fstat(pfd, &st); err != nil {
		return -1, err
	}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFREG, unix.S_IFDIR:
	case unix.S_IFLNK:
		return -1, unix.ELOOP // O_NOFOLLOW met a final link
	default:
		return -1, ErrSpecialFile
	}
	return reopen(pfd, flag)
}
