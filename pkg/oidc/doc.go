// Package oidc gets OpenID Connect ID tokens for keyless signing (flag, environment, GitHub
// Actions, browser with PKCE, device flow) and runs the local development issuer.
package oidc
