package signer

import "time"

// Option adjusts how LoadSigner, LoadPublicKey, CreateKey and ListPKCS11Keys reach a key.
type Option func(*loadOptions)

type loadOptions struct {
	pkcs11PIN        string
	pkcs11PINPrompt  func(token string) (string, error)
	pkcs11ModulePath string
	pluginTimeout    time.Duration
}

// DefaultPluginTimeout bounds each run of a KMS plugin unless WithPluginTimeout says otherwise.
const DefaultPluginTimeout = 60 * time.Second

// WithPKCS11PIN gives the token PIN (cosign's --pin). A pin-value in the URI takes its place;
// both given with different values is an error. Default: COSIGN_PKCS11_PIN.
func WithPKCS11PIN(pin string) Option { return func(o *loadOptions) { o.pkcs11PIN = pin } }

// WithPKCS11PINPrompt gives a function asked for the PIN when neither the URI, WithPKCS11PIN
// nor COSIGN_PKCS11_PIN supplies one (the command line prompts on a terminal). Default: none,
// and a token without a PIN is an error.
func WithPKCS11PINPrompt(prompt func(token string) (string, error)) Option {
	return func(o *loadOptions) { o.pkcs11PINPrompt = prompt }
}

// WithPKCS11ModulePath gives the PKCS#11 module used when the URI has no module-path.
// Default: COSIGN_PKCS11_MODULE_PATH.
func WithPKCS11ModulePath(path string) Option {
	return func(o *loadOptions) { o.pkcs11ModulePath = path }
}

// WithPluginTimeout bounds each run of a KMS plugin program. Default: DefaultPluginTimeout.
func WithPluginTimeout(d time.Duration) Option { return func(o *loadOptions) { o.pluginTimeout = d } }

func applyOptions(opts []Option) *loadOptions {
	o := &loadOptions{pluginTimeout: DefaultPluginTimeout}
	for _, opt := range opts {
		if opt != nil {
			opt(o)
		}
	}
	if o.pluginTimeout <= 0 {
		o.pluginTimeout = DefaultPluginTimeout
	}
	return o
}
