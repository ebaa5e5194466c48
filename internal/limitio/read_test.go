package limitio

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReadAll(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		limit int64
		want  string
		size  int64 // of the TooLargeError; -1 for no error
	}{
		{"empty", "", 4, "", -1},
		{"under", "abc", 4, "abc", -1},
		{"at the limit", "abcd", 4, "abcd", -1},
		{"over", "abcde", 4, "", 0},
		{"zero limit", "a", 0, "", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ReadAll(strings.NewReader(tc.in), tc.limit)
			checkRead(t, got, err, tc.want, tc.limit, tc.size)
		})
		t.Run(tc.name+" from a file", func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "in")
			if err := os.WriteFile(path, []byte(tc.in), 0o600); err != nil {
				t.Fatal(err)
			}
			f, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			got, err := ReadAll(f, tc.limit)
			size := tc.size
			if size == 0 {
				size = int64(len(tc.in)) // a file says its size before it is read
			}
			checkRead(t, got, err, tc.want, tc.limit, size)
		})
	}
}

func checkRead(t *testing.T, got []byte, err error, want string, limit, size int64) {
	t.Helper()
	if size < 0 {
		if err != nil || got == nil || string(got) != want {
			t.Fatalf("ReadAll = %q, %v; want %q", got, err, want)
		}
		return
	}
	var tl *TooLargeError
	if !errors.As(err, &tl) || tl.Limit != limit || tl.Size != size || got != nil {
		t.Fatalf("ReadAll = %q, %v; want a TooLargeError of limit %d, size %d", got, err, limit, size)
	}
}

func TestReadFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bundle.json")
	if err := os.WriteFile(path, []byte("12345"), 0o600); err != nil {
		t.Fatal(err)
	}
	if data, err := ReadFile(path, 5); err != nil || string(data) != "12345" {
		t.Fatalf("at the limit: %q, %v", data, err)
	}
	_, err := ReadFile(path, 4)
	var tl *TooLargeError
	if !errors.As(err, &tl) || err.Error() != path+" is larger than 4 bytes" {
		t.Fatalf("over the limit: %v", err)
	}
	if _, err := ReadFile(filepath.Join(t.TempDir(), "missing"), 4); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing file: %v", err)
	}
}
