package oci

import (
	"context"
	"errors"
	"io"
	"syscall"
	"testing"
	"time"
)

// temporary is an error that says it is temporary.
type temporary struct{}

func (temporary) Error() string   { return "try again" }
func (temporary) Temporary() bool { return true }

func TestRetryPredicateStopsBeforeTheDeadline(t *testing.T) {
	o := makeOptions([]Option{WithRetry(Retry{Attempts: 4, Backoff: 100 * time.Millisecond})}) // longest wait 400ms
	for _, err := range []error{temporary{}, io.ErrUnexpectedEOF, syscall.ECONNRESET} {
		if !o.retryPredicate(context.Background())(err) {
			t.Errorf("%v is not retried without a deadline", err)
		}
	}
	for _, err := range []error{errors.New("403 Forbidden"), context.DeadlineExceeded} {
		if o.retryPredicate(context.Background())(err) {
			t.Errorf("%v is retried", err)
		}
	}
	far, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if !o.retryPredicate(far)(temporary{}) {
		t.Error("not retried with a minute left")
	}
	near, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if o.retryPredicate(near)(temporary{}) {
		t.Error("retried although the longest wait passes the deadline")
	}
	ended, cancel := context.WithCancel(context.Background())
	cancel()
	if o.retryPredicate(ended)(temporary{}) {
		t.Error("retried after the context ended")
	}
}

func TestWaitBackoff(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	if err := waitBackoff(ctx, time.Second); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("waitBackoff = %v, want DeadlineExceeded", err)
	}
	if time.Since(start) > 500*time.Millisecond {
		t.Errorf("waitBackoff waited %s for a wait that could not end in time", time.Since(start))
	}
	if err := waitBackoff(context.Background(), time.Millisecond); err != nil {
		t.Fatalf("waitBackoff = %v", err)
	}
}
