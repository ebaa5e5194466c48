// Package tuf fetches and caches the trusted root and signing config over TUF (go-tuf v2),
// and publishes TUF repositories for private deployments.
package tuf
