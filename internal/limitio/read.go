package limitio

import (
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// TooLargeError is input longer than the limit.
type TooLargeError struct {
	// Limit is the limit in bytes.
	Limit int64
	// Size is the input's size when it was known before reading (a regular file), else 0.
	Size int64
}

// Error names the limit.
func (e *TooLargeError) Error() string { return fmt.Sprintf("larger than %d bytes", e.Limit) }

// ReadAll reads r to its end, failing with a *TooLargeError when it holds more than limit bytes.
// A reader that says it is a regular file (an *os.File) larger than limit is refused before
// anything is read; one within the limit is read into a single buffer of its size. An empty
// input gives an empty, non-nil slice.
func ReadAll(r io.Reader, limit int64) ([]byte, error) {
	var buf bytes.Buffer
	if st, ok := r.(interface{ Stat() (fs.FileInfo, error) }); ok {
		if fi, err := st.Stat(); err == nil && fi.Mode().IsRegular() {
			if fi.Size() > limit {
				return nil, &TooLargeError{Limit: limit, Size: fi.Size()}
			}
			buf.Grow(int(fi.Size()) + bytes.MinRead)
		}
	}
	if _, err := buf.ReadFrom(io.LimitReader(r, limit+1)); err != nil {
		return nil, err
	}
	if int64(buf.Len()) > limit {
		return nil, &TooLargeError{Limit: limit}
	}
	if buf.Len() == 0 {
		return []byte{}, nil
	}
	return buf.Bytes(), nil
}

// ReadFile is ReadAll of the file at path. Its TooLargeError is wrapped naming path
// ("path is larger than N bytes").
func ReadFile(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := ReadAll(f, limit)
	if _, ok := err.(*TooLargeError); ok {
		return nil, fmt.Errorf("%s is %w", path, err)
	}
	return data, err
}
