package permwindow

import (
	"os"
	"path/filepath"
)

func writeThenChmod(p string, secret []byte) error {
	if err := os.WriteFile(p, secret, 0o644); err != nil {
		return err
	}
	return os.Chmod(p, 0o600) // want `os.Chmod by name after os.WriteFile wrote the file`
}

func netrc(home string, data []byte) error {
	f, err := os.Create(filepath.Join(home, ".netrc"))
	if err != nil {
		return err
	}
	f.Write(data)
	f.Close()
	return os.Chown(filepath.Join(home, ".netrc"), 0, 0) // want `os.Chown by name after os.Create wrote the file`
}

func truncate(p string) error {
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		return err
	}
	f.Close()
	return os.Chmod(p, 0o600) // want `after os.OpenFile wrote the file`
}

// True negatives: the mode given at creation with O_EXCL, Chmod on the
// open file, a chmod of another name, a file only read.

func exclusive(p string, secret []byte) error {
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := f.Chmod(0o600); err != nil {
		return err
	}
	_, err = f.Write(secret)
	return err
}

func other(p, q string) error {
	if err := os.WriteFile(p, nil, 0o600); err != nil {
		return err
	}
	f, err := os.OpenFile(q, os.O_RDONLY, 0)
	if err != nil {
		return err
	}
	f.Close()
	return os.Chmod(q, 0o644)
}
