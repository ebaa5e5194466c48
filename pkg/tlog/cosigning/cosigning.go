package cosigning

import (
	"fmt"
	"time"

	"github.com/transparency-dev/tessera"

	"github.com/cosign-like/cosign-like/pkg/tlog"
)

// DefaultTimeout is the default of Options.Timeout.
const DefaultTimeout = tessera.DefaultWitnessTimeout

// Options are a log server's witnessing settings.
type Options struct {
	// Policy is a C2SP tlog-policy file in the form Tessera reads (a URL on every witness line).
	Policy []byte
	// Timeout bounds each attempt to gather the policy's cosignatures; default DefaultTimeout.
	Timeout time.Duration
	// FailOpen publishes a checkpoint whose cosignatures do not meet the policy's quorum
	// (without the missing ones) instead of holding it back; default false: fail closed.
	FailOpen bool
}

// Apply reads o.Policy and has the storage opts configure submit each checkpoint it publishes to
// the policy's witnesses. The policy is read twice: by tlog.ParseWitnessPolicy, which checks
// C2SP's rules and gives errors naming the line, and by Tessera's parser, which submits. It
// returns the timeout in force.
func Apply(opts *tessera.AppendOptions, o Options) (time.Duration, error) {
	if _, err := tlog.ParseWitnessPolicy(o.Policy); err != nil {
		return 0, fmt.Errorf("witness policy: %w", err)
	}
	group, err := tessera.NewWitnessGroupFromPolicy(o.Policy)
	if err != nil {
		return 0, fmt.Errorf("witness policy (as the log submits to it): %w", err)
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	opts.WithWitnesses(group, &tessera.WitnessOptions{Timeout: o.Timeout, FailOpen: o.FailOpen})
	return o.Timeout, nil
}
