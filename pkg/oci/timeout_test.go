package oci_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/cosign-like/cosign-like/internal/netutil/netutiltest"
	"github.com/cosign-like/cosign-like/internal/testutil"
	"github.com/cosign-like/cosign-like/pkg/oci"
)

const idle = 300 * time.Millisecond

// TestStalledRegistry: a registry that never answers, stops after its headers, or sends its
// body slower than the idle bound fails the call within the bound, naming the registry and
// what was awaited.
func TestStalledRegistry(t *testing.T) {
	netutiltest.Check(t, idle, func(t *testing.T, p *netutiltest.Peer) error {
		_, _, err := oci.Resolve(context.Background(), p.Host+"/repo:tag",
			oci.WithIdleTimeout(idle), oci.WithRetry(oci.Retry{Attempts: 1}))
		return err
	})
}

// TestRetriesEndAtTheDeadline: retries of a registry that never answers stop at the context's
// deadline; a backoff wait the deadline would cut is not begun.
func TestRetriesEndAtTheDeadline(t *testing.T) {
	p := netutiltest.Start(t, netutiltest.Silent, 0)
	const deadline = time.Second
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	start := time.Now()
	_, _, err := oci.Resolve(ctx, p.Host+"/repo:tag", oci.WithIdleTimeout(idle),
		oci.WithRetry(oci.Retry{Attempts: 10, Backoff: 100 * time.Millisecond}))
	elapsed := time.Since(start)
	netutiltest.AssertStalled(t, err, p, "response headers", elapsed, deadline)
	if elapsed > deadline+500*time.Millisecond {
		t.Errorf("returned %s after the deadline", elapsed-deadline)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("error %v does not match context.DeadlineExceeded", err)
	}
}

// TestStalledRegistryCopy: copying to a registry that never answers (go-containerregistry's
// path, with its own retries) ends at the deadline too, naming the registry.
func TestStalledRegistryCopy(t *testing.T) {
	host, _ := testutil.NewRegistry(t)
	ref := testutil.PushRandomImage(t, host, "app").String()
	p := netutiltest.Start(t, netutiltest.Silent, 0)
	const deadline = 1500 * time.Millisecond
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	start := time.Now()
	_, _, err := oci.Copy(ctx, ref, p.Host+"/app:v1", oci.WithIdleTimeout(idle))
	elapsed := time.Since(start)
	if err == nil {
		t.Fatal("copy to a silent registry succeeded")
	}
	netutiltest.AssertStalled(t, err, p, "", elapsed, deadline)
	t.Logf("%v after %s", err, elapsed)
	if elapsed > deadline+500*time.Millisecond {
		t.Errorf("returned %s after the deadline: %v", elapsed-deadline, err)
	}
}
