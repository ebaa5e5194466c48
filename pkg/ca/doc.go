// Package ca is the Fulcio-compatible code-signing CA: OIDC token verification, certificate
// issuance with Fulcio's extensions, the RFC 6962 certificate transparency log whose SCTs the
// certificates embed, and the CA client.
package ca
