package tuf

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/theupdateframework/go-tuf/v2/metadata"

	"github.com/cosign-like/cosign-like/internal/limitio"
	"github.com/cosign-like/cosign-like/internal/netutil"
)

// defaultHTTPTimeout bounds one request to the mirror when the caller gives no http.Client.
const defaultHTTPTimeout = 30 * time.Second

// httpClient returns hc (a client with the default timeout when nil) whose requests are
// cancelled when they make no progress for idle (netutil.DefaultIdleTimeout when zero).
func httpClient(hc *http.Client, idle time.Duration) *http.Client {
	if hc == nil {
		hc = &http.Client{Timeout: defaultHTTPTimeout}
	}
	return netutil.Client(hc, idle)
}

// fetchError is a failure to get a file from the mirror. It matches ErrFetch, and go-tuf's
// ErrDownloadHTTP when the mirror answered with a status other than 200 (the updater reads a 404
// on the next root version as "no newer root").
type fetchError struct {
	url string
	err error
}

func (e *fetchError) Error() string   { return fmt.Sprintf("%v: GET %s: %v", ErrFetch, e.url, e.err) }
func (e *fetchError) Unwrap() []error { return []error{ErrFetch, e.err} }

// httpFetcher implements go-tuf's fetcher.Fetcher with a context and a bounded read. go-tuf's
// interface has no context parameter, so one fetcher is made per Load or Initialize call.
type httpFetcher struct {
	ctx    context.Context
	client *http.Client
}

// DownloadFile fetches url, refusing bodies longer than maxLength.
func (f *httpFetcher) DownloadFile(url string, maxLength int64, _ time.Duration) ([]byte, error) {
	req, err := http.NewRequestWithContext(f.ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, &fetchError{url: url, err: err}
	}
	resp, err := f.client.Do(req)
	if err != nil {
		return nil, &fetchError{url: url, err: err}
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, &fetchError{url: url, err: &metadata.ErrDownloadHTTP{StatusCode: resp.StatusCode, URL: url}}
	}
	if resp.ContentLength > maxLength {
		return nil, &metadata.ErrDownloadLengthMismatch{Msg: fmt.Sprintf("%s is %d bytes, more than the %d allowed", url, resp.ContentLength, maxLength)}
	}
	data, err := limitio.ReadAll(resp.Body, maxLength)
	var tooLarge *limitio.TooLargeError
	if errors.As(err, &tooLarge) {
		return nil, &metadata.ErrDownloadLengthMismatch{Msg: fmt.Sprintf("%s is more than the %d bytes allowed", url, maxLength)}
	}
	if err != nil {
		return nil, &fetchError{url: url, err: err}
	}
	return data, nil
}

// errOffline is what offlineFetcher returns.
var errOffline = errors.New("offline: the network may not be used")

// offlineFetcher is the fetcher of an offline Load: it refuses every download, so that no code
// path can reach the network.
type offlineFetcher struct{}

// DownloadFile refuses.
func (offlineFetcher) DownloadFile(url string, _ int64, _ time.Duration) ([]byte, error) {
	return nil, fmt.Errorf("%w: not fetching %s", errOffline, url)
}
