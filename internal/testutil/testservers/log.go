package testservers

import (
	"context"
	"testing"
	"time"

	"github.com/cosign-like/cosign-like/internal/testutil"
	"github.com/cosign-like/cosign-like/pkg/tlog"
	"github.com/cosign-like/cosign-like/pkg/tlog/logserver"
)

// Log is a transparency log server started by StartLog.
type Log struct {
	// URL is its base URL, http://127.0.0.1:<port>, as its Init recorded it.
	URL string
	// Key is its checkpoint key, as a client trusts it.
	Key tlog.LogKey
	// Server is the log server.
	Server *logserver.Server
	// Dir is its state directory.
	Dir string
	// TrustedRootPart is the trusted root listing the log that its Init wrote.
	TrustedRootPart []byte
}

// LogOption configures StartLog.
type LogOption func(*logConfig)

type logConfig struct {
	start  time.Time
	mutate func(*logserver.Options)
	init   func(dir, url string) error
}

// WithLogStart sets the start of the log's validity in its trusted root (by default a minute
// before the log starts, so that entries made at once are inside it).
func WithLogStart(t time.Time) LogOption { return func(c *logConfig) { c.start = t } }

// WithLogOptions lets mutate change the options the log is opened with (by default: logs
// discarded, everything else logserver's defaults).
func WithLogOptions(mutate func(*logserver.Options)) LogOption {
	return func(c *logConfig) { c.mutate = mutate }
}

// WithLogInit replaces logserver.Init: init must initialise a log in dir for the base URL url
// (by default logserver.Init with the URL and WithLogStart's time).
func WithLogInit(init func(dir, url string) error) LogOption {
	return func(c *logConfig) { c.init = init }
}

// StartLog initialises a transparency log (Tessera on POSIX files) for the URL it will be
// served at, opens it, and serves it on 127.0.0.1 until the test ends.
func StartLog(tb testing.TB, opts ...LogOption) *Log {
	tb.Helper()
	cfg := logConfig{start: time.Now().Add(-time.Minute)}
	for _, o := range opts {
		o(&cfg)
	}
	ctx := context.Background()
	dir := testutil.StorageDir(tb)
	if cfg.init == nil {
		cfg.init = func(dir, url string) error {
			return logserver.Init(ctx, dir, logserver.InitOptions{URL: url, Start: cfg.start})
		}
	}
	served := testutil.StartServer(tb, func(url string) (*logserver.Server, error) {
		if err := cfg.init(dir, url); err != nil {
			return nil, err
		}
		o := logserver.Options{Logger: discardLogger()}
		if cfg.mutate != nil {
			cfg.mutate(&o)
		}
		return logserver.Open(ctx, dir, o)
	})
	return &Log{URL: served.URL, Key: served.Server.LogKey(), Server: served.Server, Dir: dir,
		TrustedRootPart: readPart(tb, dir, logserver.TrustedRootFile)}
}
