package oci

import (
	"context"
	"encoding/base64"
	"fmt"
	"strings"
	"sync"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// AuthCache remembers, across calls, how each registry asks to be authenticated and the
// tokens it issued, so a command making several calls (resolve, then attach) answers each
// registry's challenge once. It is safe for concurrent use. Without one (WithAuthCache),
// every call starts afresh.
type AuthCache struct {
	mu   sync.Mutex
	regs map[string]*registryAuth
}

type registryAuth struct {
	scheme string            // "basic" or "bearer", lower case
	params map[string]string // the challenge's parameters
	basic  string            // the Basic Authorization header
	tokens map[string]string // scope -> Bearer Authorization header
}

// NewAuthCache returns an empty AuthCache.
func NewAuthCache() *AuthCache { return &AuthCache{regs: map[string]*registryAuth{}} }

// header returns the Authorization header known for scope on registry, or "". A push,pull
// token also serves pull requests.
func (a *AuthCache) header(registry, scope string) string {
	a.mu.Lock()
	defer a.mu.Unlock()
	r := a.regs[registry]
	if r == nil {
		return ""
	}
	if r.scheme == "basic" {
		return r.basic
	}
	if h, ok := r.tokens[scope]; ok {
		return h
	}
	if pull, ok := strings.CutSuffix(scope, ":pull"); ok {
		return r.tokens[pull+":push,pull"]
	}
	return ""
}

// pendingBearer returns the bearer challenge known for registry when scope has no token yet.
func (a *AuthCache) pendingBearer(registry, scope string) map[string]string {
	a.mu.Lock()
	defer a.mu.Unlock()
	r := a.regs[registry]
	if r == nil || r.scheme != "bearer" {
		return nil
	}
	if _, ok := r.tokens[scope]; ok {
		return nil
	}
	return r.params
}

func (a *AuthCache) store(registry, scheme string, params map[string]string, scope, value string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	r := a.regs[registry]
	if r == nil || r.scheme != scheme {
		r = &registryAuth{scheme: scheme, tokens: map[string]string{}}
		a.regs[registry] = r
	}
	r.params = params
	if scheme == "basic" {
		r.basic = value
	} else {
		r.tokens[scope] = value
	}
}

// prepareAuth fetches a token for scope before the first request when the registry is already
// known to want one, saving the round trip that would be answered 401.
func (c *client) prepareAuth(ctx context.Context, scope string) error {
	if c.auth.pendingBearer(c.repo.RegistryStr(), scope) == nil {
		return nil
	}
	c.authMu.Lock()
	defer c.authMu.Unlock()
	params := c.auth.pendingBearer(c.repo.RegistryStr(), scope)
	if params == nil || c.auth.header(c.repo.RegistryStr(), scope) != "" {
		return nil
	}
	return c.answer(ctx, "bearer", params, scope)
}

// authorize answers a WWW-Authenticate challenge for scope and caches the resulting
// Authorization header.
func (c *client) authorize(ctx context.Context, header, scope string) error {
	if header == "" {
		return errEmptyChallenge
	}
	scheme, params := parseChallenge(header)
	return c.answer(ctx, strings.ToLower(scheme), params, scope)
}

func (c *client) answer(ctx context.Context, scheme string, params map[string]string, scope string) error {
	a, err := c.authenticator()
	if err != nil {
		return err
	}
	cfg, err := authn.Authorization(ctx, a)
	if err != nil {
		return fmt.Errorf("reading credentials: %w", err)
	}
	var value string
	switch scheme {
	case "basic":
		if cfg.Username == "" && cfg.Password == "" {
			return &NoCredentialsError{Registry: c.repo.RegistryStr()}
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
	c.auth.store(c.repo.RegistryStr(), scheme, params, scope, value)
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
