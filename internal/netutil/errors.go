package netutil

import (
	"fmt"
	"time"
)

// Stage is what a request was waiting for when it stopped.
type Stage int

// The stages of a request, in the order it passes them.
const (
	// Connecting: name resolution, the TCP connection and the TLS handshake.
	Connecting Stage = iota
	// Sending: the request and its body, which the peer must take.
	Sending
	// AwaitingHeaders: the status line and headers of the response.
	AwaitingHeaders
	// ReadingBody: the next bytes of the response body.
	ReadingBody
)

// String says what the request was doing, with the peer to follow ("connecting to").
func (s Stage) String() string {
	switch s {
	case Connecting:
		return "connecting to"
	case Sending:
		return "sending the request to"
	case AwaitingHeaders:
		return "waiting for response headers from"
	default:
		return "waiting for the response body from"
	}
}

// TimeoutError is a request stopped while it waited on its peer: the idle bound ran out, or
// the request's context ended (Err, the context's error).
type TimeoutError struct {
	// Host is the peer, as the request URL names it (host or host:port).
	Host string
	// Stage is what the request was waiting for.
	Stage Stage
	// Idle is the idle bound that ran out; zero when the context ended the request.
	Idle time.Duration
	// Err is the context's error when the context ended the request.
	Err error
}

// Error names what was awaited, the peer, and the bound that ran out.
func (e *TimeoutError) Error() string {
	switch {
	case e.Err != nil:
		return fmt.Sprintf("%s %s: %v", e.Stage, e.Host, e.Err)
	case e.Stage == Connecting:
		return fmt.Sprintf("%s %s: not connected after %s", e.Stage, e.Host, e.Idle)
	case e.Stage == Sending:
		return fmt.Sprintf("%s %s: nothing taken for %s", e.Stage, e.Host, e.Idle)
	default:
		return fmt.Sprintf("%s %s: nothing received for %s", e.Stage, e.Host, e.Idle)
	}
}

// Unwrap returns the context's error, when the context ended the request.
func (e *TimeoutError) Unwrap() error { return e.Err }

// Timeout is true: the error is a timeout in the sense of net.Error.
func (e *TimeoutError) Timeout() bool { return true }

// Temporary is true when the idle bound ran out, which another attempt may not meet; false
// when the context ended the request.
func (e *TimeoutError) Temporary() bool { return e.Err == nil }
