package main

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cosign-like/cosign-like/internal/httpserver"
	"github.com/cosign-like/cosign-like/pkg/ca"
	"github.com/cosign-like/cosign-like/pkg/ca/pki"
	"github.com/cosign-like/cosign-like/pkg/oidc"
	"github.com/cosign-like/cosign-like/pkg/signer"
)

func init() { addCommand(newCACmd) }

func newCACmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "ca",
		Short: "Run a Fulcio-compatible code-signing CA",
	}
	cmd.AddCommand(newCAInitCmd(), newCAServeCmd(), newCACertCmd())
	return cmd
}

func newCAInitCmd() *cobra.Command {
	var dir string
	var tok pkcs11Flags
	var opts ca.InitOptions
	cmd := &cobra.Command{
		Use:   "init",
		Short: "Create the CA's root and code-signing intermediate, and its trusted-root part",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.SignerOptions = tok.signerOptions()
			if err := ca.Init(cmd.Context(), dir, opts); err != nil {
				return fmt.Errorf("ca init: %w", err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "CA created in %s (trusted-root part: %s)\n", dir, ca.TrustedRootFile)
			return nil
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "", "state directory to create (required)")
	cmd.Flags().StringVar(&opts.URL, "url", "", "CA URL to record in the trusted root")
	cmd.Flags().StringVar(&opts.Organization, "organization", "cosign-like", "organization in the certificate subjects")
	cmd.Flags().StringVar(&opts.KMS, "kms", "", "create the intermediate key in a PKCS#11 token (pkcs11: URI) instead of a file")
	tok.addFlags(cmd, true)
	_ = cmd.MarkFlagRequired("dir")
	return cmd
}

type caServeOptions struct {
	serverOptions
	config  string
	ctURL   string
	ctKey   string
	issuers []string
	token   pkcs11Flags
}

func newCAServeCmd() *cobra.Command {
	var o caServeOptions
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve the Fulcio v2 API (POST /api/v2/signingCert, GET /api/v2/trustBundle, GET /api/v2/configuration)",
		Long: `Serve the Fulcio v2 API. Trusted issuers come from --config (ca.yaml):

  issuers:
    - url: https://token.actions.githubusercontent.com
      client-id: sigstore
      type: github-workflow
    - url: https://accounts.example.com
      type: email

and from --issuer URL[,client-id=ID][,type=TYPE][,subject-domain=D] (repeatable). Types: email,
github-workflow, uri, kubernetes, username. Every certificate is first submitted as a
precertificate to the CT log at --ct-url; without its SCT no certificate is issued.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			logger, err := o.logger(cmd)
			if err != nil {
				return err
			}
			var issuers []ca.IssuerConfig
			if o.config != "" {
				c, err := ca.LoadConfig(o.config)
				if err != nil {
					return err
				}
				issuers = c.Issuers
			}
			for _, f := range o.issuers {
				ic, err := ca.ParseIssuerFlag(f)
				if err != nil {
					return fmt.Errorf("--issuer: %w", err)
				}
				issuers = append(issuers, ic)
			}
			if len(issuers) == 0 {
				return errors.New("ca serve: no trusted issuers: give --config or --issuer")
			}
			if o.ctURL == "" {
				return errors.New("ca serve: --ct-url is required (certificates always embed an SCT)")
			}
			copts := ca.Options{Issuers: issuers, CTURL: o.ctURL, Logger: logger, SignerOptions: o.token.signerOptions()}
			if o.ctKey != "" {
				data, err := os.ReadFile(o.ctKey)
				if err != nil {
					return fmt.Errorf("ca serve: --ct-public-key: %w", err)
				}
				if copts.CTPublicKey, err = ca.ParsePublicKeyPEM(data); err != nil {
					return fmt.Errorf("ca serve: --ct-public-key %s: %w", o.ctKey, err)
				}
			}
			authority, err := ca.Open(cmd.Context(), o.dir, copts)
			if err != nil {
				return fmt.Errorf("ca serve: %w", err)
			}
			return runServers(cmd, httpserver.RunOptions{Logger: logger}, httpserver.Service{Name: "CA", Addr: o.addr, Server: authority})
		},
	}
	o.bind(cmd, "127.0.0.1:5555")
	cmd.Flags().StringVar(&o.config, "config", "", "issuer configuration file (ca.yaml)")
	cmd.Flags().StringVar(&o.ctURL, "ct-url", "", "base URL of the CT log (required)")
	cmd.Flags().StringVar(&o.ctKey, "ct-public-key", "", "the CT log's public key (ct_pub.pem from ct init): every SCT is checked against it")
	cmd.Flags().StringArrayVar(&o.issuers, "issuer", nil, "trusted issuer: URL[,client-id=ID][,type=TYPE][,subject-domain=D] (repeatable)")
	o.token.addFlags(cmd, false)
	return cmd
}

func newCACertCmd() *cobra.Command {
	var fulcioURL, token string
	cmd := &cobra.Command{
		Use:   "cert",
		Short: "Debug: get a certificate for an ephemeral key and print the chain (PEM)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			tok, err := oidc.GetToken(ctx, oidc.Options{IdentityToken: token, Getenv: os.Getenv,
				Out: cmd.ErrOrStderr(), DisableInteractive: true})
			if err != nil {
				return fmt.Errorf("ca cert: %w", err)
			}
			s, err := signer.GenerateEphemeral()
			if err != nil {
				return err
			}
			chain, err := ca.RequestCertificate(ctx, strings.TrimSuffix(fulcioURL, "/"), tok, s)
			if err != nil {
				return fmt.Errorf("ca cert: %w", err)
			}
			_, err = cmd.OutOrStdout().Write(pki.EncodeCertificates(chain))
			return err
		},
	}
	cmd.Flags().StringVar(&fulcioURL, "fulcio-url", "", "CA base URL (required)")
	cmd.Flags().StringVar(&token, "identity-token", "", "ID token, or a file holding one (default: SIGSTORE_ID_TOKEN or GitHub Actions)")
	_ = cmd.MarkFlagRequired("fulcio-url")
	return boundInTime(cmd)
}
