// Package kmsplugin holds the wire types of Sigstore's KMS plugin protocol (protocol version
// "v1", as sigstore/sigstore's cliplugin speaks it) and a helper to write plugins. A key
// reference "<name>://<key>" is served by the executable sigstore-kms-<name> found on PATH; each
// call runs it once with argv[1] the protocol version and argv[2] the JSON Request, the data to
// sign or verify on stdin, and reads one JSON Response from its stdout. Errors travel in
// Response.ErrorMessage; the exit status carries no meaning of its own.
package kmsplugin
