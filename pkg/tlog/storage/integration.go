package storage

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/transparency-dev/tessera"
)

// IntegrationTimeout bounds how long AwaitIntegration waits. POSIX and MySQL storage integrate an
// entry before its index is returned; Tessera's AWS driver assigns the index in the database and
// integrates about once a second in whichever front-end takes the integration lock, so a server
// that answers with what the tree holds waits for that.
const IntegrationTimeout = 30 * time.Second

// AwaitIntegration returns reader's integrated tree size once it is at least want, polling it,
// or fails after IntegrationTimeout.
func AwaitIntegration(ctx context.Context, reader tessera.LogReader, want uint64) (uint64, error) {
	deadline := time.Now().Add(IntegrationTimeout)
	for wait := 5 * time.Millisecond; ; wait = min(2*wait, 50*time.Millisecond) {
		size, err := reader.IntegratedSize(ctx)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return 0, fmt.Errorf("reading tree size: %w", err)
		}
		if size >= want {
			return size, nil
		}
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("integrated tree size %d is below %d after %s", size, want, IntegrationTimeout)
		}
		select {
		case <-ctx.Done():
			return 0, fmt.Errorf("integrated tree size %d is below %d: %w", size, want, ctx.Err())
		case <-time.After(wait):
		}
	}
}
