package main

import (
	"errors"
	"fmt"
	"log/slog"

	"github.com/spf13/cobra"

	"github.com/cosign-like/cosign-like/internal/httpserver"
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
