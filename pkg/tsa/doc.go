// Package tsa is the RFC 3161 timestamp authority: its HTTP server and its client.
package tsa
