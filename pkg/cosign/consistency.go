package cosign

import (
	"context"
	"fmt"

	"github.com/cosign-like/cosign-like/pkg/root"
	"github.com/cosign-like/cosign-like/pkg/tlog/logclient"
	"github.com/cosign-like/cosign-like/pkg/verify"
)

// CheckLogConsistency is the online part of verification: for each log that vouched for a
// verified signature, it fetches the log's newest checkpoint and proves it consistent with the
// last one kept under stateDir for that log, so that a log that forked, showed a split view or
// rolled back is detected. Each log is checked once, with its key from trusted.
func CheckLogConsistency(ctx context.Context, trusted *root.TrustedRoot, stateDir string, entries []verify.TlogEntry) error {
	seen := map[string]bool{}
	for _, e := range entries {
		if e.BaseURL == "" || seen[e.BaseURL] {
			continue
		}
		seen[e.BaseURL] = true
		keys, err := trusted.LogKeys(e.BaseURL)
		if err != nil {
			return err
		}
		if _, _, err := logclient.CheckConsistencyAny(ctx, e.BaseURL, keys, stateDir); err != nil {
			return fmt.Errorf("transparency log %s: %w", e.BaseURL, err)
		}
	}
	return nil
}
