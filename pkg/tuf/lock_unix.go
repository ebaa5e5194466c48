//go:build unix

package tuf

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// lockRepo takes an exclusive advisory lock on dir/.lock so that two commands never change one
// repository at once. The kernel drops the lock if the process dies.
func lockRepo(dir string) (unlock func(), err error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("creating %s: %w", dir, err)
	}
	f, err := os.OpenFile(filepath.Join(dir, ".lock"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("locking repository: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("%w: another command is changing %s", ErrBusy, dir)
		}
		return nil, fmt.Errorf("locking repository: %w", err)
	}
	return func() {
		syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}
