package netutil

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/textproto"
	"sync"
	"time"
)

// DefaultIdleTimeout is the idle bound of the module's clients: the longest a request waits for
// a connection, for its peer to take the request, for the response headers, or for the next
// bytes of the response body.
const DefaultIdleTimeout = 30 * time.Second

// NewTransport returns a clone of http.DefaultTransport whose dials and TLS handshakes give up
// after idle (DefaultIdleTimeout when idle <= 0), as do its waits for response headers. It is
// a base for Bound, which bounds the rest.
func NewTransport(idle time.Duration) *http.Transport {
	idle = orDefault(idle)
	t := http.DefaultTransport.(*http.Transport).Clone()
	d := &net.Dialer{Timeout: idle, KeepAlive: 30 * time.Second}
	t.DialContext = d.DialContext
	t.TLSHandshakeTimeout = idle
	t.ResponseHeaderTimeout = idle
	return t
}

// Bound returns a round tripper that sends requests through base (http.DefaultTransport when
// nil) and cancels a request that makes no progress for idle (DefaultIdleTimeout when
// idle <= 0): connecting, sending, waiting for the response headers, or inside one read of the
// response body. Such a request fails with a *TimeoutError, as does one whose context's
// deadline passes. A base that Bound already returned is returned as it is, keeping its bound.
func Bound(base http.RoundTripper, idle time.Duration) http.RoundTripper {
	if b, ok := base.(*bounded); ok {
		return b
	}
	if base == nil {
		base = http.DefaultTransport
	}
	return &bounded{base: base, idle: orDefault(idle)}
}

// Client returns a copy of c (an empty client when nil) whose transport is Bound(c.Transport,
// idle). c's other settings, its overall Timeout among them, stay.
func Client(c *http.Client, idle time.Duration) *http.Client {
	var out http.Client
	if c != nil {
		out = *c
	}
	out.Transport = Bound(out.Transport, idle)
	return &out
}

func orDefault(idle time.Duration) time.Duration {
	if idle <= 0 {
		return DefaultIdleTimeout
	}
	return idle
}

// bounded is the round tripper of Bound.
type bounded struct {
	base http.RoundTripper
	idle time.Duration
}

// RoundTrip sends req under a watch that cancels it when it stops making progress.
func (b *bounded) RoundTrip(req *http.Request) (*http.Response, error) {
	w := newWatch(req.Context(), req.URL.Host, b.idle)
	r := req.WithContext(httptrace.WithClientTrace(w.ctx, w.trace()))
	if req.Body != nil && req.Body != http.NoBody {
		r.Body = &requestBody{rc: req.Body, w: w}
		if req.GetBody != nil {
			r.GetBody = func() (io.ReadCloser, error) {
				body, err := req.GetBody()
				if err != nil || body == http.NoBody {
					return body, err
				}
				return &requestBody{rc: body, w: w}, nil
			}
		}
	}
	w.progress(Connecting)
	resp, err := b.base.RoundTrip(r)
	if err != nil {
		err = w.explain(err)
		w.end()
		return nil, err
	}
	w.gotAnswer()
	resp.Body = &responseBody{rc: resp.Body, w: w}
	return resp, nil
}

// watch is the idle timer of one request. The timer runs while the request waits on its peer
// and cancels the request's context when it runs out.
type watch struct {
	host   string
	idle   time.Duration
	parent context.Context
	ctx    context.Context
	cancel context.CancelFunc
	timer  *time.Timer

	mu       sync.Mutex
	stage    Stage
	armed    bool
	armedAt  time.Time
	expired  bool // the idle bound ran out, at stage
	ended    bool
	answered bool // the response headers came: only reads of the body count from now on
}

func newWatch(parent context.Context, host string, idle time.Duration) *watch {
	w := &watch{host: host, idle: idle, parent: parent}
	w.ctx, w.cancel = context.WithCancel(parent)
	w.timer = time.AfterFunc(idle, w.expire)
	w.timer.Stop()
	return w
}

// arm starts (or restarts) the idle timer for stage s.
func (w *watch) arm(s Stage) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.armLocked(s)
}

func (w *watch) armLocked(s Stage) {
	if w.expired || w.ended {
		return
	}
	w.stage, w.armed, w.armedAt = s, true, time.Now()
	w.timer.Reset(w.idle)
}

// progress restarts the idle timer for stage s, as the request's trace and its body report
// it, until the response headers came. Those reports may come late: the request body may
// still be written, and its end reported, after the peer answered.
func (w *watch) progress(s Stage) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.answered {
		w.armLocked(s)
	}
}

// progressIf is progress when the request is at stage s.
func (w *watch) progressIf(s Stage) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.answered && w.stage == s {
		w.armLocked(s)
	}
}

// pauseIf stops the idle timer when the request is at stage s and not yet answered.
func (w *watch) pauseIf(s Stage) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.answered && w.stage == s {
		w.armed = false
		w.timer.Stop()
	}
}

// gotAnswer stops the idle timer once the response headers came: the request now waits on
// its caller to read the body.
func (w *watch) gotAnswer() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.answered, w.stage = true, ReadingBody
	w.armed = false
	w.timer.Stop()
}

// disarm stops the idle timer: the request waits on its caller, not on its peer.
func (w *watch) disarm() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.armed = false
	w.timer.Stop()
}

// expire cancels the request when the timer ran out and was not restarted meanwhile.
func (w *watch) expire() {
	w.mu.Lock()
	if !w.armed || w.expired || w.ended || time.Since(w.armedAt) < w.idle {
		w.mu.Unlock()
		return
	}
	w.expired = true
	w.mu.Unlock()
	w.cancel()
}

// end stops the timer for good and releases the request's context.
func (w *watch) end() {
	w.mu.Lock()
	w.ended, w.armed = true, false
	w.timer.Stop()
	w.mu.Unlock()
	w.cancel()
}

// explain turns an error of the request into a *TimeoutError when the idle bound ran out, the
// base transport's own bound did, or the caller's deadline passed; other errors (a refused
// connection, a cancellation by the caller) are returned as they are.
func (w *watch) explain(err error) error {
	w.mu.Lock()
	stage, expired := w.stage, w.expired
	w.mu.Unlock()
	var ne net.Error
	switch {
	case expired:
		return &TimeoutError{Host: w.host, Stage: stage, Idle: w.idle}
	case errors.Is(w.parent.Err(), context.DeadlineExceeded):
		return &TimeoutError{Host: w.host, Stage: stage, Err: w.parent.Err()}
	case w.parent.Err() == nil && errors.As(err, &ne) && ne.Timeout():
		return &TimeoutError{Host: w.host, Stage: stage, Idle: w.idle}
	}
	return err
}

// trace follows the request through its stages.
func (w *watch) trace() *httptrace.ClientTrace {
	return &httptrace.ClientTrace{
		GetConn:              func(string) { w.progress(Connecting) },
		GotConn:              func(httptrace.GotConnInfo) { w.progress(Sending) },
		WroteRequest:         func(httptrace.WroteRequestInfo) { w.progress(AwaitingHeaders) },
		GotFirstResponseByte: func() { w.progressIf(AwaitingHeaders) },
		Got1xxResponse: func(int, textproto.MIMEHeader) error {
			w.progressIf(AwaitingHeaders)
			return nil
		},
	}
}

// requestBody is a request body whose reads count as progress of the sending stage; the time
// spent inside a read, waiting on the caller's source, does not count against the peer.
type requestBody struct {
	rc io.ReadCloser
	w  *watch
}

func (b *requestBody) Read(p []byte) (int, error) {
	b.w.pauseIf(Sending)
	n, err := b.rc.Read(p)
	b.w.progressIf(Sending)
	return n, err
}

func (b *requestBody) Close() error { return b.rc.Close() }

// responseBody is a response body each read of which must return within the idle bound.
type responseBody struct {
	rc io.ReadCloser
	w  *watch
}

func (b *responseBody) Read(p []byte) (int, error) {
	b.w.arm(ReadingBody)
	n, err := b.rc.Read(p)
	b.w.disarm()
	if err != nil && err != io.EOF {
		err = b.w.explain(err)
	}
	return n, err
}

func (b *responseBody) Close() error {
	err := b.rc.Close()
	b.w.end()
	return err
}
