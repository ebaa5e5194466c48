package main

import (
	"fmt"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/cosign-like/cosign-like/pkg/cosign"
	"github.com/cosign-like/cosign-like/pkg/oidc"
	"github.com/cosign-like/cosign-like/pkg/signer"
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
	token   pkcs11Flags
	tlog    tlogOptions
	keyless keylessOptions
	trust   trustOptions
}

func (o *signingOptions) addFlags(fs *pflag.FlagSet) {
	o.key.addSignFlags(fs)
	o.token.addPINFlag(fs, pinFlag)
	o.tlog.addSignFlags(fs)
	o.keyless.addFlags(fs)
	o.trust.addFlags(fs)
}

// setup returns the signer and the bundle options the flags describe: the key, or an ephemeral key
// with a certificate for the identity token; the timestamp authority; the transparency log, whose
// entries are checked against the trusted root when one is given.
func (o *signingOptions) setup(cmd *cobra.Command) (signer.Signer, *cosign.BundleOptions, error) {
	ctx := cmd.Context()
	if v := o.tlog.rekorVersion; v != 0 && v != 1 && v != 2 {
		return nil, nil, fmt.Errorf("--rekor-api-version %d: want 1 or 2", v)
	}
	sc, err := loadSigningConfig(ctx, o.keyless.signingConfig)
	if err != nil {
		return nil, nil, err
	}
	setup := &cosign.SigningSetup{
		SigningConfig:   sc,
		CAURL:           o.keyless.fulcioURL,
		TSAURL:          o.keyless.tsaURL,
		RekorURL:        o.tlog.rekorURL,
		RekorAPIVersion: o.tlog.rekorVersion,
		OIDCURL:         o.keyless.oidcIssuer,
		Upload:          o.tlog.upload,
	}
	if url, _ := setup.RekorLog(); o.tlog.upload && url != "" {
		if setup.TrustedRoot, err = loadTrustedRoot(ctx, o.trust.trustedRoot, false); err != nil {
			return nil, nil, err
		}
		if setup.TrustedRoot != nil {
			if setup.StateDir, err = logclient.DefaultStateDir(); err != nil {
				return nil, nil, err
			}
		}
	}

	if o.key.key != "" {
		opts, err := setup.BundleOptions()
		if err != nil {
			return nil, nil, err
		}
		s, err := signer.LoadSigner(ctx, o.key.key, keyPasswordFunc(cmd), o.token.interactiveSignerOptions(cmd)...)
		if err != nil {
			return nil, nil, err
		}
		return s, opts, nil
	}

	if opts, err := setup.BundleOptions(); err != nil {
		return nil, nil, err
	} else if !opts.HasSigningTime() {
		return nil, nil, cosign.ErrNoTimestampAuthority
	}
	token, err := oidc.GetToken(ctx, oidc.Options{
		IdentityToken: o.keyless.identityToken,
		Issuer:        setup.Services().OIDCURL,
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
	s, opts, err := setup.KeylessSigner(ctx, token)
	if err != nil {
		return nil, nil, err
	}
	if id := certificateIdentity(opts.Chain[0]); id != "" {
		fmt.Fprintf(cmd.ErrOrStderr(), "Signing as %s with a short-lived certificate from %s\n", id, setup.Services().CAURL)
	}
	return s, opts, nil
}
