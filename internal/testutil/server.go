package testutil

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"testing"
	"time"
)

// Server is the shape every server of the module has (internal/httpserver.Server): the handler
// it answers with, and Close, which releases what stands behind that handler.
type Server interface {
	Handler() http.Handler
	Close(ctx context.Context) error
}

// CloseTimeout bounds a server's Close when Started.Stop or the end of its test closes it.
const CloseTimeout = 10 * time.Second

// Started is a server StartServer serves on 127.0.0.1, until Stop or the end of the test.
type Started[S Server] struct {
	// Server is the server open made.
	Server S
	// URL is its base URL, http://127.0.0.1:<port>.
	URL string

	once    sync.Once
	http    *httptest.Server
	stopErr error
}

// StartServer picks a free port on 127.0.0.1, calls open with the base URL it will be served at
// (so that a server can be initialised with the URL it answers at), and serves the server open
// returns there through httptest. When the test ends it is stopped as Stop stops it, and an
// error of its Close is reported with tb.Errorf. If open fails, the test fails.
func StartServer[S Server](tb testing.TB, open func(url string) (S, error)) *Started[S] {
	tb.Helper()
	hs := httptest.NewUnstartedServer(nil)
	s := &Started[S]{URL: "http://" + hs.Listener.Addr().String(), http: hs}
	srv, err := open(s.URL)
	if err != nil {
		hs.Listener.Close()
		tb.Fatalf("starting a server for %s: %v", s.URL, err)
	}
	s.Server = srv
	hs.Config.Handler = srv.Handler()
	hs.Start()
	tb.Cleanup(func() {
		if err := s.Stop(); err != nil {
			tb.Errorf("closing the server at %s: %v", s.URL, err)
		}
	})
	return s
}

// Stop stops serving, waiting for the requests in flight, then closes the server within
// CloseTimeout and returns Close's error. Later calls return the first call's result.
func (s *Started[S]) Stop() error {
	s.once.Do(func() {
		s.http.Close()
		ctx, cancel := context.WithTimeout(context.Background(), CloseTimeout)
		defer cancel()
		s.stopErr = s.Server.Close(ctx)
	})
	return s.stopErr
}

// Kill cuts every open connection (requests in flight get no answer, as from a killed process)
// and then stops the server as Stop does.
func (s *Started[S]) Kill() error {
	s.http.CloseClientConnections()
	return s.Stop()
}

// StorageDir is a temporary directory, like tb.TempDir, for storage that background goroutines
// may still write to for a moment after its server closed (Tessera's): its removal when the test
// ends is retried for up to five seconds.
func StorageDir(tb testing.TB) string {
	tb.Helper()
	dir, err := os.MkdirTemp("", "cosign-like-test-")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		var err error
		for range 50 {
			if err = os.RemoveAll(dir); err == nil {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
		tb.Errorf("removing %s: %v", dir, err)
	})
	return dir
}
