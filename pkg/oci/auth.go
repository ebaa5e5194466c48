package oci

import (
	"context"
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// authorize answers a WWW-Authenticate challenge for scope and caches the resulting
// Authorization header.
func (c *client) authorize(ctx context.Context, header, scope string) error {
	if header == "" {
		return errEmptyChallenge
	}
	scheme, params := parseChallenge(header)
	a, err := c.authenticator()
	if err != nil {
		return err
	}
	cfg, err := authn.Authorization(ctx, a)
	if err != nil {
		return fmt.Errorf("reading credentials: %w", err)
	}
	var value string
	switch strings.ToLower(scheme) {
	case "basic":
		if cfg.Username == "" && cfg.Password == "" {
			return fmt.Errorf("registry %s requires credentials and none are configured (docker login, or --registry-username/--registry-password)", c.repo.RegistryStr())
		}
		value = "Basic " + base64.StdEncoding.EncodeToString([]byte(cfg.Username+":"+cfg.Password))
	case "bearer":
		if cfg.RegistryToken != "" {
			value = "Bearer " + cfg.RegistryToken
			break
		}
		scopes := []string{scope}
		if s := params["scope"]; s != "" && s != scope {
			scopes = append(scopes, strings.Fields(s)...)
		}
		ch := &transport.Challenge{Scheme: scheme, Parameters: params, Insecure: c.scheme == "http"}
		tok, err := transport.Exchange(ctx, c.repo.Registry, a, c.o.transport, scopes, ch)
		if err != nil {
			return fmt.Errorf("exchanging a token for %s: %w", strings.Join(scopes, " "), err)
		}
		t := tok.Token
		if t == "" {
			t = tok.AccessToken
		}
		value = "Bearer " + t
	default:
		return fmt.Errorf("unsupported authentication scheme %q", scheme)
	}
	c.mu.Lock()
	c.authz[scope] = value
	c.mu.Unlock()
	return nil
}

// parseChallenge splits a WWW-Authenticate header into its scheme and parameters
// (e.g. `Bearer realm="https://auth.example/token",service="reg",scope="repository:a:pull"`).
// Only the first challenge is read.
func parseChallenge(h string) (string, map[string]string) {
	h = strings.TrimSpace(h)
	scheme, rest, _ := strings.Cut(h, " ")
	params := map[string]string{}
	for rest = strings.TrimSpace(rest); rest != ""; {
		key, after, ok := strings.Cut(rest, "=")
		if !ok {
			break
		}
		key = strings.ToLower(strings.TrimSpace(key))
		after = strings.TrimLeft(after, " ")
		var val string
		if strings.HasPrefix(after, `"`) {
			var b strings.Builder
			i := 1
			for ; i < len(after); i++ {
				ch := after[i]
				if ch == '\\' && i+1 < len(after) {
					i++
					b.WriteByte(after[i])
					continue
				}
				if ch == '"' {
					break
				}
				b.WriteByte(ch)
			}
			val = b.String()
			if i < len(after) {
				i++
			}
			rest = after[i:]
		} else {
			end := strings.IndexByte(after, ',')
			if end < 0 {
				end = len(after)
			}
			val = strings.TrimSpace(after[:end])
			rest = after[end:]
		}
		params[key] = val
		rest = strings.TrimLeft(rest, " ,")
	}
	return scheme, params
}
