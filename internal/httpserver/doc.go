// Package httpserver is the HTTP setup every server of cosign-like shares: the http.Server
// timeouts and header limit, a bound on request bodies, panic recovery, request logs and
// metrics, /healthz and /metrics (a Prometheus registry per server, so that several servers
// live in one process), the plain-text error writer and the bounded body reader, the servers'
// slog logger, and a runner that serves a list of servers and shuts them all down gracefully.
//
// A server package builds its handler with Instrument and offers it through a type with
// Handler() and Close(ctx) (the Server interface); Run and Start serve such values.
package httpserver
