package admission

import (
	"context"
	"fmt"
	"net/http"
	"sync/atomic"
)

// countingTransport counts each registry request against the tally of the review it is made
// for (carried in the request's context), which records it in the server's metrics.
type countingTransport struct{ base http.RoundTripper }

func (c countingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := c.base.RoundTrip(req)
	if t, ok := req.Context().Value(tallyKey{}).(*tally); ok {
		t.add(requestResult(resp, err))
	}
	return resp, err
}

// requestResult is a registry request's result as the metric labels it: the class of the
// status answered (2xx, 3xx, 4xx, 5xx), or error when none was.
func requestResult(resp *http.Response, err error) string {
	if err != nil || resp == nil {
		return "error"
	}
	return fmt.Sprintf("%dxx", resp.StatusCode/100)
}

// tally counts the registry requests of one review.
type tally struct {
	n atomic.Int64
	m *metrics
}

type tallyKey struct{}

// withTally makes the registry requests made under ctx count in t.
func withTally(ctx context.Context, t *tally) context.Context {
	return context.WithValue(ctx, tallyKey{}, t)
}

func (t *tally) add(result string) {
	t.n.Add(1)
	t.m.registryRequest(result)
}
