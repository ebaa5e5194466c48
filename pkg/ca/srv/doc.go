// Package srv is the HTTP plumbing shared by the CA, CT log and TSA servers: health and
// Prometheus endpoints, request metrics, JSON access logs, timeouts and graceful shutdown.
package srv
