package main

import (
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/cosign-like/cosign-like/pkg/cosign"
	"github.com/cosign-like/cosign-like/pkg/oidc"
	"github.com/cosign-like/cosign-like/pkg/signer"
	"github.com/cosign-like/cosign-like/pkg/tlog"
	"github.com/cosign-like/cosign-like/pkg/tlog/logclient"
)

// keylessOptions are the flags that say where keyless signing gets its certificate and
// timestamp, and which identity token it uses.
type keylessOptions struct {
	fulcioURL     string
	tsaURL        string
	identityToken string
	signingConfig string
	oidcIssuer    string
	oidcClientID  string
	deviceFlow    bool
}

func (o *keylessOptions) addFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.fulcioURL, "fulcio-url", "", "code-signing CA URL for keyless signing (default: from the signing config)")
	fs.StringVar(&o.tsaURL, "timestamp-server-url", "", "RFC 3161 timestamp authority URL (default: from the signing config)")
	fs.StringVar(&o.identityToken, "identity-token", "", "OIDC identity token, or a file holding one (default: $SIGSTORE_ID_TOKEN, then the OIDC flows)")
	fs.StringVar(&o.oidcIssuer, "oidc-issuer", "", "OpenID provider of the interactive flows (default: from the signing config)")
	fs.StringVar(&o.oidcClientID, "oidc-client-id", "sigstore", "OAuth client ID at the OpenID provider")
	fs.BoolVar(&o.deviceFlow, "oidc-device-flow", false, "get the token with the device flow (for machines without a browser)")
	fs.StringVar(&o.signingConfig, "signing-config", envDefault("COSIGN_LIKE_SIGNING_CONFIG", ""), "signing config JSON naming the CA, log, TSA and OIDC URLs (default $COSIGN_LIKE_SIGNING_CONFIG)")
}

// signingOptions are every flag a signing command shares: key or keyless, log, trust.
type signingOptions struct {
	key     keyOptions
	token   tokenOptions
	tlog    tlogOptions
	keyless keylessOptions
	trust   trustOptions
}

func (o *signingOptions) addFlags(fs *pflag.FlagSet) {
	o.key.addSignFlags(fs)
	o.token.addFlags(fs)
	o.tlog.addSignFlags(fs)
	o.keyless.addFlags(fs)
	o.trust.addFlags(fs)
}

// setup returns the signer and the bundle options the flags describe: the key, or an ephemeral key
// with a certificate for the identity token; the timestamp authority; the transparency log, whose
// entries are checked against the trusted root when one is given.
func (o *signingOptions) setup(cmd *cobra.Command) (signer.Signer, *cosign.BundleOptions, error) {
	ctx := cmd.Context()
	var services cosign.Services
	scData, err := trustFile(ctx, o.keyless.signingConfig, false, pickSigningConfig)
	if err != nil {
		return nil, nil, err
	}
	if scData != nil {
		sc, err := cosign.ParseSigningConfig(scData, time.Now())
		if err != nil {
			return nil, nil, fmt.Errorf("signing config: %w", err)
		}
		services = *sc
	}
	override(&services.CAURL, o.keyless.fulcioURL)
	override(&services.TSAURL, o.keyless.tsaURL)
	override(&services.RekorURL, o.tlog.rekorURL)

	w := &cosign.BundleOptions{TSAURL: services.TSAURL}
	if o.tlog.upload {
		if services.RekorURL == "" {
			return nil, nil, fmt.Errorf("no transparency log configured: pass --rekor-url or --signing-config, or --tlog-upload=false to sign without a log entry")
		}
		w.RekorURL = services.RekorURL
		data, err := trustFile(ctx, o.trust.trustedRoot, false, pickTrustedRoot)
		if err != nil {
			return nil, nil, err
		}
		if data != nil {
			if w.LogKeys, err = tlog.LogKeysFromTrustedRoot(data, w.RekorURL); err != nil {
				return nil, nil, fmt.Errorf("trusted root %s: %w", o.trust.trustedRoot, err)
			}
			if w.StateDir, err = logclient.DefaultStateDir(); err != nil {
				return nil, nil, err
			}
		}
	}

	if o.key.key != "" {
		s, err := signer.LoadSigner(ctx, o.key.key, keyPasswordFunc(cmd), o.token.interactiveSignerOptions(cmd)...)
		if err != nil {
			return nil, nil, err
		}
		if w.RekorURL == "" && w.TSAURL == "" {
			w = nil
		}
		return s, w, nil
	}

	if w.TSAURL == "" {
		return nil, nil, cosign.ErrNoTimestampAuthority
	}
	override(&services.OIDCURL, o.keyless.oidcIssuer)
	token, err := oidc.GetToken(ctx, oidc.Options{
		IdentityToken: o.keyless.identityToken,
		Issuer:        services.OIDCURL,
		ClientID:      o.keyless.oidcClientID,
		DeviceFlow:    o.keyless.deviceFlow,
		// The browser flow needs a person at a terminal; without one it would only wait.
		DisableInteractive: !o.keyless.deviceFlow && !isTerminal(cmd.InOrStdin()),
		Out:                cmd.ErrOrStderr(),
		OpenBrowser:        oidc.SystemBrowser,
	})
	if err != nil {
		return nil, nil, fmt.Errorf("getting an identity token: %w", err)
	}
	s, chain, err := cosign.Keyless(ctx, services.CAURL, token)
	if err != nil {
		return nil, nil, err
	}
	w.Chain = chain
	if id := certificateIdentity(chain[0]); id != "" {
		fmt.Fprintf(cmd.ErrOrStderr(), "Signing as %s with a short-lived certificate from %s\n", id, services.CAURL)
	}
	return s, w, nil
}

func override(dst *string, v string) {
	if v != "" {
		*dst = v
	}
}

// isTerminal reports whether in is an interactive terminal.
func isTerminal(in io.Reader) bool {
	_, ok := terminalFD(in)
	return ok
}
