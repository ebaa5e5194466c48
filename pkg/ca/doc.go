// Package ca is the Fulcio-compatible code-signing CA: OIDC token verification, certificate
// issuance with Fulcio's extensions, and the CA client. Its subpackages hold the RFC 6962
// certificate transparency log whose SCTs the certificates embed (ctlog) and the key, certificate
// and trusted-root helpers (pki).
//
// Init writes a CA's state directory; Open makes the Server of one (ca serve and the dev stack
// both use it), and New makes one of a key and chain handed to it. The Server's Handler carries
// the shared HTTP setup of internal/httpserver.
//
// Issuance, in order: the token is bounded in size, its issuer must be configured (exact
// match), its signature must verify under the issuer's JWKS (discovery and keys are cached;
// refreshes are rate-limited), its audience must be the issuer's client ID, and exp, nbf and iat
// must hold within ClockSkew. The issuer's type turns the claims into an identity (see
// IssuerType). The key must be proven: a signature over the identity's subject, or a CSR signed
// by the key. The CA then signs a precertificate carrying the critical poison extension, submits
// it with its chain to the CT log's add-pre-chain, embeds the SCT it answers in place of the
// poison, and signs the final certificate; without an SCT there is no certificate.
//
// The HTTP API is Fulcio's v2: POST /api/v2/signingCert (token in credentials.oidcIdentityToken
// or an Authorization: Bearer header), GET /api/v2/trustBundle and GET /api/v2/configuration;
// and beside it Fulcio's legacy v1, which containers/image calls: POST /api/v1/signingCert (the
// same issuance, answered 201 with the PEM chain) and GET /api/v1/rootCert.
package ca
