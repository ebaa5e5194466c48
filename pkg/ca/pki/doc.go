// Package pki holds the key, certificate and trusted-root helpers shared by the CA, the CT log
// and the timestamp authority: PEM files, self-signed roots and their subordinates, and the
// trusted-root parts (protobuf-specs trustroot v1) each server's init writes.
package pki
