package loadgen

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/cosign-like/cosign-like/internal/testutil/testservers"
	"github.com/cosign-like/cosign-like/pkg/tlog"
)

func TestCheckLoopback(t *testing.T) {
	tests := []struct {
		url string
		ok  bool
	}{
		{"http://127.0.0.1:3003", true}, {"http://127.8.9.10", true}, {"http://[::1]:80", true}, {"http://localhost:1", true},
		{"http://10.0.0.1", false}, {"http://example.com", false}, {"http://[::2]", false}, {"://bad", false},
	}
	for _, tc := range tests {
		if err := CheckLoopback(tc.url); (err == nil) != tc.ok {
			t.Errorf("CheckLoopback(%q) = %v", tc.url, err)
		}
	}
	if _, err := Run(context.Background(), Config{URL: "http://192.0.2.1", Clients: 1}, nil); err == nil || !strings.Contains(err.Error(), "not a loopback") {
		t.Errorf("Run against a remote address: %v", err)
	}
}

func TestPrepareBounds(t *testing.T) {
	for _, n := range []int{0, -1, MaxEntries + 1} {
		if _, err := Prepare(n); err == nil {
			t.Errorf("Prepare(%d) accepted", n)
		}
	}
}

func TestRunAgainstLog(t *testing.T) {
	ctx := context.Background()
	l := testservers.StartLog(t)
	bodies, err := Prepare(60)
	if err != nil {
		t.Fatal(err)
	}
	res, err := Run(ctx, Config{URL: l.URL, Clients: 8, Duration: 30 * time.Second, VerifyEvery: 1, Keys: []tlog.LogKey{l.Key}}, bodies)
	if err != nil {
		t.Fatal(err)
	}
	if res.Acknowledged != 60 || res.Failed != 0 || res.P50 <= 0 || res.P99 < res.P50 || res.PerSecond <= 0 {
		t.Fatalf("unexpected result %s", res)
	}
	// The same bodies again are duplicates: the log refuses to append them twice.
	res, err = Run(ctx, Config{URL: l.URL, Clients: 2, Duration: 30 * time.Second}, bodies[:5])
	if err != nil {
		t.Fatal(err)
	}
	if res.Failed != 5 || !strings.Contains(res.FirstError, "status 409") {
		t.Fatalf("resubmission: %s", res)
	}
}
