package main

import (
	"encoding/pem"
	"fmt"
	"os"
	"runtime/debug"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"k8s.io/klog/v2"

	"github.com/cosign-like/cosign-like/internal/httpserver"
	"github.com/cosign-like/cosign-like/pkg/root"
	"github.com/cosign-like/cosign-like/pkg/tlog"
	"github.com/cosign-like/cosign-like/pkg/tlog/logclient"
	"github.com/cosign-like/cosign-like/pkg/tlog/logserver"
)

func init() { addCommand(newLogCmd) }

func newLogCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "log",
		Short: "Run, query and monitor a transparency log (Rekor v2 API; upload, get, search and verify also speak Rekor v1)",
	}
	cmd.AddCommand(newLogInitCmd(), newLogServeCmd(), newLogInfoCmd(), newLogGetCmd(), newLogVerifyCmd(),
		newLogMonitorCmd(), newLogFsckCmd(), newLogReindexCmd(), newLogUploadCmd(), newLogSearchCmd())
	return cmd
}

// logClientOptions are the flags of commands that read a log: where it is, which key to trust,
// and where its last checkpoint is kept.
type logClientOptions struct {
	rekorURL    string
	trustedRoot string
	logKey      string
	stateDir    string
}

func (o *logClientOptions) addFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.rekorURL, "rekor-url", "", "transparency log URL (required)")
	markRequired(fs, "rekor-url", "")
	fs.StringVar(&o.trustedRoot, "trusted-root", envDefault("COSIGN_LIKE_TRUSTED_ROOT", ""), "trusted root JSON listing the log's key (default $COSIGN_LIKE_TRUSTED_ROOT)")
	fs.StringVar(&o.logKey, "log-key", "", "the log's public key (PEM, e.g. log.pub from log init), instead of --trusted-root")
	fs.StringVar(&o.stateDir, "state-dir", "", "where the last verified checkpoint of each log is kept (default $XDG_STATE_HOME/cosign-like)")
}

// keys returns the trusted keys of the log at --rekor-url.
func (o *logClientOptions) keys() ([]tlog.LogKey, error) {
	switch {
	case o.trustedRoot != "" && o.logKey != "":
		return nil, fmt.Errorf("pass either --trusted-root or --log-key, not both")
	case o.trustedRoot != "":
		trusted, err := root.LoadTrustedRoot(o.trustedRoot)
		if err != nil {
			return nil, err
		}
		return trusted.LogKeys(o.rekorURL)
	case o.logKey != "":
		der, err := readPublicKeyPEM(o.logKey)
		if err != nil {
			return nil, err
		}
		k, err := tlog.LogKeyFromPKIX(o.rekorURL, der)
		if err != nil {
			return nil, err
		}
		return []tlog.LogKey{k}, nil
	}
	return nil, fmt.Errorf("no trusted log key: pass --trusted-root or --log-key")
}

func (o *logClientOptions) state() (string, error) {
	if o.stateDir != "" {
		return o.stateDir, nil
	}
	return logclient.DefaultStateDir()
}

// readPublicKeyPEM returns the DER of the PEM PUBLIC KEY in path.
func readPublicKeyPEM(path string) ([]byte, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading public key: %w", err)
	}
	block, _ := pem.Decode(raw)
	if block == nil || block.Type != "PUBLIC KEY" {
		return nil, fmt.Errorf("%s: not a PEM PUBLIC KEY", path)
	}
	return block.Bytes, nil
}

func newLogInitCmd() *cobra.Command {
	var dir, url string
	cmd := &cobra.Command{
		Use:   "init",
		Short: "Create a log: Ed25519 checkpoint key, config and trusted_root.json",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := logserver.Init(cmd.Context(), dir, logserver.InitOptions{URL: url}); err != nil {
				return err
			}
			cfg, err := logserver.LoadConfig(dir)
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "origin: %s\nlog ID: %s\ntrusted root: %s\n", cfg.Origin, cfg.LogID, strings.TrimSuffix(dir, "/")+"/"+logserver.TrustedRootFile)
			return nil
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "", "log directory to create")
	cmd.Flags().StringVar(&url, "url", "", "base URL clients will reach the log at; its hostname is the checkpoint origin")
	markRequired(cmd.Flags(), "dir", "")
	markRequired(cmd.Flags(), "url", "")
	return cmd
}

type logServeOptions struct {
	dir, addr, storage  string
	v1Storage           string
	logFormat, logLevel string
	batchMaxAge         time.Duration
	batchMaxSize        uint
	maxBodySize         int64
	checkpointInterval  time.Duration
	dedupWarmEntries    int
	memoryLimit         int64
	witnessing          witnessingOptions
}

func newLogServeCmd() *cobra.Command {
	var o logServeOptions
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve a log: POST /api/v2/log/entries and the tlog-tiles read API",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.dir == "" {
				return fmt.Errorf("--dir is required")
			}
			logger, err := newServerLogger(cmd, o.logFormat, o.logLevel)
			if err != nil {
				return err
			}
			klog.SetSlogLogger(logger)
			if os.Getenv("GOMEMLIMIT") == "" && o.memoryLimit > 0 {
				debug.SetMemoryLimit(o.memoryLimit)
			}
			ctx := cmd.Context()
			w, err := o.witnessing.load()
			if err != nil {
				return err
			}
			srv, err := logserver.Open(ctx, o.dir, logserver.Options{
				Storage: o.storage, V1Storage: o.v1Storage, Logger: logger, MaxBodySize: o.maxBodySize,
				BatchMaxSize: o.batchMaxSize, BatchMaxAge: o.batchMaxAge,
				CheckpointInterval: o.checkpointInterval, DedupWarmEntries: o.dedupWarmEntries,
				WitnessPolicy: w.Policy, WitnessTimeout: w.Timeout, WitnessFailOpen: w.FailOpen,
			})
			if err != nil {
				return err
			}
			// The log keeps its own limits, which are longer than the other servers'.
			return runServers(cmd, httpserver.RunOptions{Logger: logger, ShutdownGrace: logShutdownGrace},
				httpserver.Service{Name: "log", Addr: o.addr, Server: srv, Timeouts: httpserver.TransparencyLogTimeouts()})
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&o.dir, "dir", "", "log directory (from log init)")
	fs.StringVar(&o.addr, "addr", "127.0.0.1:3003", "listen address")
	fs.StringVar(&o.storage, "storage", "", "storage: empty for POSIX files under --dir, mysql://user:pw@tcp(host:port)/db, or aws://?db=<DSN>&bucket=<bucket>[&endpoint=URL&region=R&path-style=true] (MariaDB + S3, several front-ends)")
	fs.StringVar(&o.v1Storage, "v1-storage", "", "storage of the Rekor v1 tree, in the same forms (default: data-v1 under --dir, <path>-v1, or database <db>_v1)")
	fs.StringVar(&o.logFormat, "log-format", "text", "log format: text or json")
	fs.StringVar(&o.logLevel, "log-level", "info", "log level: debug, info, warn, error")
	fs.DurationVar(&o.batchMaxAge, "batch-max-age", logserver.DefaultBatchMaxAge, "longest wait before a batch of entries is sequenced")
	fs.UintVar(&o.batchMaxSize, "batch-max-size", logserver.DefaultBatchMaxSize, "most entries in one sequencing batch")
	fs.Int64Var(&o.maxBodySize, "max-body-size", logserver.DefaultMaxBodySize, "largest request body accepted (413 beyond)")
	fs.DurationVar(&o.checkpointInterval, "checkpoint-interval", logserver.DefaultCheckpointInterval, "how often the storage publishes its checkpoint file")
	fs.IntVar(&o.dedupWarmEntries, "dedup-warm-entries", logserver.DefaultDedupWarmEntries, "newest entries indexed at start to recognise resubmissions")
	fs.Int64Var(&o.memoryLimit, "memory-limit", 112<<20, "soft memory limit of the Go runtime in bytes (0: none; GOMEMLIMIT overrides)")
	o.witnessing.addFlags(fs)
	return cmd
}

// logShutdownGrace is how long log serve lets requests in flight finish once interrupted: the
// log's entries wait for their checkpoint.
const logShutdownGrace = 30 * time.Second

func newLogFsckCmd() *cobra.Command {
	var dir, storage string
	cmd := &cobra.Command{
		Use:   "fsck",
		Short: "Check a log's storage: re-hash every entry and tile against the stored checkpoint",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			res, err := logserver.Fsck(cmd.Context(), dir, storage)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "ok: %d entries, root %x, checkpoint verified\n", res.Checkpoint.Size, res.Checkpoint.Hash)
			return nil
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "", "log directory (from log init)")
	markRequired(cmd.Flags(), "dir", "")
	cmd.Flags().StringVar(&storage, "storage", "", "storage of the log, as given to log serve (default: POSIX files under --dir)")
	return cmd
}

func newLogReindexCmd() *cobra.Command {
	var opts logserver.Options
	var dir string
	cmd := &cobra.Command{
		Use:   "reindex",
		Short: "Rebuild the Rekor v1 search index from the v1 tree (the log must not be served meanwhile)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			n, err := logserver.Reindex(cmd.Context(), dir, opts)
			if err != nil {
				return fmt.Errorf("log reindex: %w", err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "ok: %d v1 entries indexed\n", n)
			return nil
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "", "log directory (from log init)")
	markRequired(cmd.Flags(), "dir", "")
	cmd.Flags().StringVar(&opts.Storage, "storage", "", "storage of the log, as given to log serve")
	cmd.Flags().StringVar(&opts.V1Storage, "v1-storage", "", "storage of the Rekor v1 tree, as given to log serve")
	return cmd
}
