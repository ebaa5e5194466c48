package main

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/cosign-like/cosign-like/internal/httpserver"
	"github.com/cosign-like/cosign-like/internal/limitio"
	"github.com/cosign-like/cosign-like/pkg/tlog"
	"github.com/cosign-like/cosign-like/pkg/tlog/cosigning"
)

// serverOptions are the flags every server command shares.
type serverOptions struct {
	dir      string
	addr     string
	logLevel string
}

func (o *serverOptions) bind(cmd *cobra.Command, defaultAddr string) {
	cmd.Flags().StringVar(&o.dir, "dir", "", "state directory written by init (required)")
	cmd.Flags().StringVar(&o.addr, "addr", defaultAddr, "address to listen on")
	cmd.Flags().StringVar(&o.logLevel, "log-level", "info", "log level: debug, info, warn or error")
	_ = cmd.MarkFlagRequired("dir")
}

// logger is the server's JSON logger at --log-level.
func (o *serverOptions) logger(cmd *cobra.Command) (*slog.Logger, error) {
	return newServerLogger(cmd, httpserver.JSONFormat, o.logLevel)
}

// newServerLogger builds the slog logger of a server command from its --log-format and
// --log-level values, writing to stderr.
func newServerLogger(cmd *cobra.Command, format, level string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: %w", level, err)
	}
	logger, err := httpserver.NewLogger(cmd.ErrOrStderr(), format, lv)
	if errors.Is(err, httpserver.ErrLogFormat) {
		return nil, fmt.Errorf("--log-format %q: %w", format, httpserver.ErrLogFormat)
	}
	return logger, err
}

// runServers serves a command's servers until its context ends, printing where each listens,
// then shuts them down and closes them.
func runServers(cmd *cobra.Command, opts httpserver.RunOptions, services ...httpserver.Service) error {
	opts.Announce = cmd.OutOrStdout()
	return httpserver.Run(cmd.Context(), services, opts)
}

// witnessingOptions are a log server's witnessing flags (log serve, ct serve): the policy whose
// witnesses it submits its checkpoints to.
type witnessingOptions struct {
	policy   string
	timeout  time.Duration
	failOpen bool
}

func (o *witnessingOptions) addFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.policy, "witness-policy", "", "C2SP tlog-policy file: submit each checkpoint to its witnesses and publish it with their cosignatures")
	fs.DurationVar(&o.timeout, "witness-timeout", cosigning.DefaultTimeout, "longest wait for the witnesses' cosignatures of one checkpoint")
	fs.BoolVar(&o.failOpen, "witness-fail-open", false, "publish a checkpoint without the policy's quorum of cosignatures rather than hold it back")
}

// load reads the policy file; with none, the policy is empty (no witnessing).
func (o *witnessingOptions) load() (cosigning.Options, error) {
	w := cosigning.Options{Timeout: o.timeout, FailOpen: o.failOpen}
	if o.policy == "" {
		return w, nil
	}
	var err error
	if w.Policy, err = limitio.ReadFile(o.policy, tlog.MaxPolicySize); err != nil {
		return w, fmt.Errorf("reading witness policy: %w", err)
	}
	return w, nil
}
