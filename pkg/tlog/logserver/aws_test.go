package logserver

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/cosign-like/cosign-like/pkg/tlog/storage"
)

// TestAWSSpecErrors: each malformed aws:// storage is refused, naming what is wrong, before
// anything is dialled.
func TestAWSSpecErrors(t *testing.T) {
	const db = "db=root%40tcp%28127.0.0.1%3A3306%29%2Ftlog"
	dir := t.TempDir()
	if err := Init(context.Background(), dir, InitOptions{URL: "http://127.0.0.1:3003", Start: time.Now()}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ spec, want string }{
		{"aws://bucket", "want aws://?db=...&bucket=..."},
		{"aws://?bucket=b", "db= (a MySQL DSN) and bucket= are required"},
		{"aws://?" + db, "db= (a MySQL DSN) and bucket= are required"},
		{"aws://?db=not-a-dsn&bucket=b", "db=:"},
		{"aws://?" + db + "&bucket=b&endpoint=ftp://x", "endpoint= must be an http(s) URL"},
		{"aws://?" + db + "&bucket=b&path-style=maybe", "path-style=:"},
		{"aws://?" + db + "&bucket=b&colour=blue", `unknown parameter "colour"`},
		{"aws://?" + db + "&bucket=b&%zz", "invalid URL escape"},
	} {
		_, err := storage.ParseAWS(tc.spec)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want an error containing %q", tc.spec, err, tc.want)
		}
		// Open and Fsck refuse it the same way.
		if _, err := Open(context.Background(), dir, Options{Storage: tc.spec}); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Open with %s: got %v, want an error containing %q", tc.spec, err, tc.want)
		}
		if _, err := Fsck(context.Background(), dir, tc.spec); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Fsck of %s: got %v, want an error containing %q", tc.spec, err, tc.want)
		}
	}
}
