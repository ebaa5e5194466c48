package httpserver

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"
)

// How long Run waits when its context ends.
const (
	// ShutdownGrace is how long requests in flight get to finish (RunOptions.ShutdownGrace).
	ShutdownGrace = 10 * time.Second
	// CloseTimeout is how long the servers' Close calls get once no request is in flight.
	CloseTimeout = 30 * time.Second
)

// Server is what the runner serves: a handler, and whatever stands behind it, released by Close
// once the handler answers no more requests.
type Server interface {
	Handler() http.Handler
	Close(ctx context.Context) error
}

// Service is one server of a list given to Run or Start.
type Service struct {
	// Name says which server it is, in the announcement of its address ("CA", "CT log").
	Name string
	// Listener is where the server answers; when nil, the runner listens on Addr (TCP).
	Listener net.Listener
	Addr     string
	// Server is what is served.
	Server Server
	// Timeouts are the limits of its connections (zero fields: the defaults).
	Timeouts Timeouts
	// TLS, when set, makes the server answer HTTPS on its listener with this configuration.
	TLS *tls.Config
}

// RunOptions configure Run and Start.
type RunOptions struct {
	// Logger receives a "listening" line for each server (fields server and addr) and the
	// http.Servers' own errors; nil discards them.
	Logger *slog.Logger
	// Announce, when set, gets the line "<name> listening on http://<addr>" (https:// for a
	// service with TLS) for each server once its listener is open.
	Announce io.Writer
	// ShutdownGrace is how long Run lets requests in flight finish once its context ends
	// (ShutdownGrace by default); the servers' Close calls then get CloseTimeout.
	ShutdownGrace time.Duration
}

// Handler adapts a handler with nothing behind it to the Server interface: its Close does
// nothing.
func Handler(h http.Handler) Server { return handlerOnly{h} }

type handlerOnly struct{ h http.Handler }

func (s handlerOnly) Handler() http.Handler     { return s.h }
func (handlerOnly) Close(context.Context) error { return nil }

// Run serves every service until ctx ends, then shuts them all down gracefully: requests in
// flight get RunOptions.ShutdownGrace to finish, then each server is closed (last first). If a
// server stops serving on its own, Run shuts the others down the same way and returns its error.
// Run closes every listener and server it was given, whatever happens; it returns nil after a
// clean shutdown.
func Run(ctx context.Context, services []Service, opts RunOptions) error {
	g, err := Start(ctx, services, opts)
	if err != nil {
		return err
	}
	select {
	case <-ctx.Done():
	case <-g.failed:
	}
	grace := opts.ShutdownGrace
	if grace <= 0 {
		grace = ShutdownGrace
	}
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), grace)
	defer cancel()
	return g.stop(shutdownCtx, func() (context.Context, context.CancelFunc) {
		return context.WithTimeout(context.WithoutCancel(ctx), CloseTimeout)
	})
}

// Group is a list of services being served, from Start until Shutdown.
type Group struct {
	services []Service
	servers  []*http.Server
	done     []chan error // the result of each http.Server's Serve
	failed   chan struct{}
	failOnce sync.Once
	stopOnce sync.Once
	stopErr  error
}

// Start listens for each service that has no listener yet, announces every address, and serves
// them all in the background until Shutdown. ctx bounds only the listening. If Start fails it
// has closed every listener and server it was given.
func Start(ctx context.Context, services []Service, opts RunOptions) (*Group, error) {
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	services = append([]Service(nil), services...)
	for _, svc := range services {
		if svc.Server == nil {
			return nil, errors.Join(fmt.Errorf("%s: no server to serve", svc.Name), CloseAll(context.WithoutCancel(ctx), services))
		}
	}
	var lc net.ListenConfig
	for i := range services {
		if services[i].Listener != nil {
			continue
		}
		ln, err := lc.Listen(ctx, "tcp", services[i].Addr)
		if err != nil {
			err = fmt.Errorf("listening on %s: %w", services[i].Addr, err)
			return nil, errors.Join(err, CloseAll(context.WithoutCancel(ctx), services))
		}
		services[i].Listener = ln
	}
	for i := range services {
		if services[i].TLS != nil {
			services[i].Listener = tls.NewListener(services[i].Listener, services[i].TLS)
		}
	}
	g := &Group{services: services, failed: make(chan struct{})}
	for _, svc := range services {
		addr := svc.Listener.Addr()
		logger.Info("listening", "server", svc.Name, "addr", addr.String())
		if opts.Announce != nil {
			scheme := "http"
			if svc.TLS != nil {
				scheme = "https"
			}
			fmt.Fprintf(opts.Announce, "%s listening on %s://%s\n", svc.Name, scheme, addr)
		}
	}
	for _, svc := range services {
		srv := newHTTPServer(svc.Server.Handler(), svc.Timeouts, logger)
		done := make(chan error, 1)
		g.servers, g.done = append(g.servers, srv), append(g.done, done)
		go func(ln net.Listener) {
			err := srv.Serve(ln)
			if !errors.Is(err, http.ErrServerClosed) {
				g.failOnce.Do(func() { close(g.failed) })
			}
			done <- err
		}(svc.Listener)
	}
	return g, nil
}

// Addr is where the i-th service listens.
func (g *Group) Addr(i int) net.Addr { return g.services[i].Listener.Addr() }

// Shutdown stops the group: the servers stop accepting connections, requests in flight finish
// while ctx lasts, then every server is closed, last first, within ctx too. Later calls return
// the first call's result.
func (g *Group) Shutdown(ctx context.Context) error {
	return g.stop(ctx, func() (context.Context, context.CancelFunc) { return ctx, func() {} })
}

// stop shuts the HTTP servers down within ctx, then closes the servers within the context that
// closeCtx makes.
func (g *Group) stop(ctx context.Context, closeCtx func() (context.Context, context.CancelFunc)) error {
	g.stopOnce.Do(func() {
		errs := make([]error, len(g.servers))
		var wg sync.WaitGroup
		for i, srv := range g.servers {
			wg.Go(func() {
				addr := g.services[i].Listener.Addr()
				if err := srv.Shutdown(ctx); err != nil {
					errs[i] = fmt.Errorf("shutting down %s: %w", addr, err)
					return
				}
				if err := <-g.done[i]; err != nil && !errors.Is(err, http.ErrServerClosed) {
					errs[i] = fmt.Errorf("serving on %s: %w", addr, err)
				}
			})
		}
		wg.Wait()
		cctx, cancel := closeCtx()
		defer cancel()
		errs = append(errs, closeServers(cctx, g.services))
		g.stopErr = errors.Join(errs...)
	})
	return g.stopErr
}

// CloseAll closes the listener and the server of every service, last first, for a caller that
// built services it will not serve after all.
func CloseAll(ctx context.Context, services []Service) error {
	for _, svc := range services {
		if svc.Listener != nil {
			_ = svc.Listener.Close()
		}
	}
	return closeServers(ctx, services)
}

// closeServers calls Close on every server, last first (a server may use those listed before
// it while it stops).
func closeServers(ctx context.Context, services []Service) error {
	var errs []error
	for i := len(services) - 1; i >= 0; i-- {
		if s := services[i].Server; s != nil {
			errs = append(errs, s.Close(ctx))
		}
	}
	return errors.Join(errs...)
}
