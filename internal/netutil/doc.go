// Package netutil bounds the HTTP requests of the module's clients: a request must make
// progress, connecting, sending, receiving its response headers and each read of its response
// body, within an idle bound, or it is cancelled with a TimeoutError naming the peer and what
// was awaited. The caller's context bounds the whole request.
package netutil
