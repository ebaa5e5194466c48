package logserver

import (
	"context"
	"strings"
	"testing"
	"time"
)

func TestParseAWSSpec(t *testing.T) {
	s, err := parseAWSSpec("aws://?db=root%40tcp%28127.0.0.1%3A3306%29%2Ftlog&bucket=b&prefix=p&endpoint=http%3A%2F%2F127.0.0.1%3A9000&region=r&path-style=true")
	if err != nil {
		t.Fatal(err)
	}
	want := awsSpec{dsn: "root@tcp(127.0.0.1:3306)/tlog", bucket: "b", prefix: "p", endpoint: "http://127.0.0.1:9000", region: "r", pathStyle: true}
	if s != want {
		t.Fatalf("parsed %+v, want %+v", s, want)
	}
}

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
		_, err := parseAWSSpec(tc.spec)
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
