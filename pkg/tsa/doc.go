// Package tsa is the RFC 3161 timestamp authority: its HTTP server and its client.
//
// Init writes a state directory; Open serves it (the key file, or a key kept in a PKCS#11
// token), and New serves a key and chain handed to it. The Server's Handler carries the shared
// HTTP setup of internal/httpserver.
package tsa
