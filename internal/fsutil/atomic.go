package fsutil

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// WriteFileAtomic writes data to path with mode perm, replacing the file atomically. The
// directory must exist. Errors name path.
func WriteFileAtomic(path string, data []byte, perm os.FileMode) error {
	return WriteFileAtomicFrom(path, perm, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// WriteFileAtomicFrom is WriteFileAtomic for content that write produces as a stream (buffered):
// the file appears, complete, only when write succeeded; otherwise path is left as it was.
func WriteFileAtomicFrom(path string, perm os.FileMode, write func(io.Writer) error) error {
	return writeAtomic(path, perm, write, false)
}

// WriteFileDurable is WriteFileAtomic that also survives a crash of the machine: the new content
// is flushed to the disk (fsync) before the rename, and the rename itself (an fsync of the
// directory) before it returns. For state that an answer already given depends on.
func WriteFileDurable(path string, data []byte, perm os.FileMode) error {
	return writeAtomic(path, perm, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	}, true)
}

func writeAtomic(path string, perm os.FileMode, write func(io.Writer) error, durable bool) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := fill(tmp, perm, write, durable); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if durable {
		if err := syncDir(filepath.Dir(path)); err != nil {
			return fmt.Errorf("writing %s: %w", path, err)
		}
	}
	return nil
}

// syncDir flushes a directory's entries to the disk.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// fill gives f its mode (before any content is written), writes it, flushes it to the disk when
// durable, and closes it.
func fill(f *os.File, perm os.FileMode, write func(io.Writer) error, durable bool) error {
	if err := f.Chmod(perm); err != nil {
		f.Close()
		return err
	}
	bw := bufio.NewWriterSize(f, 256<<10)
	if err := write(bw); err != nil {
		f.Close()
		return err
	}
	if err := bw.Flush(); err != nil {
		f.Close()
		return err
	}
	if durable {
		if err := f.Sync(); err != nil {
			f.Close()
			return err
		}
	}
	return f.Close()
}
