package main

import (
	"crypto"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	"github.com/spf13/cobra"

	"github.com/cosign-like/cosign-like/pkg/bundle"
	"github.com/cosign-like/cosign-like/pkg/signer"
	"github.com/cosign-like/cosign-like/pkg/verify"
)

func init() { addCommand(newVerifyBundleCmd) }

// verifyBundleOptions are the flags of `verify-bundle`, the Sigstore conformance client protocol.
type verifyBundleOptions struct {
	bundlePath     string
	identity       string
	identityRegexp string
	issuer         string
	issuerRegexp   string
	keyPath        string
	trustedRoot    string
}

func newVerifyBundleCmd() *cobra.Command {
	var o verifyBundleOptions
	cmd := &cobra.Command{
		Use:   "verify-bundle --bundle FILE (--certificate-identity I --certificate-oidc-issuer U | --key PUB) [--trusted-root FILE] FILE_OR_DIGEST",
		Short: "Verify a Sigstore bundle offline (the sigstore-conformance client protocol)",
		Long: `verify-bundle checks a Sigstore bundle against an artifact, given as a file path or as
sha256:<hex>, by certificate identity or by public key, fully offline, against the trusted root
given with --trusted-root. It exits 0 when the bundle verifies and non-zero, with the reason,
otherwise.`,
		Hidden: true,
		Args:   cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runVerifyBundle(cmd, &o, args[0])
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&o.bundlePath, "bundle", "", "the bundle to verify (required)")
	fs.StringVar(&o.identity, "certificate-identity", "", "identity (SAN) the signing certificate must name")
	fs.StringVar(&o.identityRegexp, "certificate-identity-regexp", "", "regexp the whole identity must match")
	fs.StringVar(&o.issuer, "certificate-oidc-issuer", "", "OIDC issuer the signing certificate must name")
	fs.StringVar(&o.issuerRegexp, "certificate-oidc-issuer-regexp", "", "regexp the whole OIDC issuer must match")
	fs.StringVar(&o.keyPath, "key", "", "PEM public key the bundle must be signed with")
	fs.StringVar(&o.trustedRoot, "trusted-root", "", "trusted root JSON (required)")
	return cmd
}

func runVerifyBundle(cmd *cobra.Command, o *verifyBundleOptions, artifactArg string) error {
	if o.bundlePath == "" {
		return errors.New("--bundle is required")
	}
	if o.trustedRoot == "" {
		return errors.New("no trusted root: give --trusted-root")
	}
	policy := verify.Policy{}
	hasIdentity := o.identity != "" || o.identityRegexp != "" || o.issuer != "" || o.issuerRegexp != ""
	switch {
	case o.keyPath != "" && hasIdentity:
		return errors.New("--key and --certificate-identity/--certificate-oidc-issuer exclude each other")
	case o.keyPath != "":
		pemBytes, err := os.ReadFile(o.keyPath)
		if err != nil {
			return fmt.Errorf("reading --key: %w", err)
		}
		pub, err := signer.ParsePublicKeyPEM(pemBytes)
		if err != nil {
			return fmt.Errorf("--key %s: %w", o.keyPath, err)
		}
		policy.Key = pub
	case hasIdentity:
		policy.Identity = &verify.Identity{
			Subject: o.identity, SubjectRegexp: o.identityRegexp,
			Issuer: o.issuer, IssuerRegexp: o.issuerRegexp,
		}
	default:
		return errors.New("give --key, or --certificate-identity and --certificate-oidc-issuer")
	}

	trusted, err := verify.LoadTrustedRoot(o.trustedRoot)
	if err != nil {
		return err
	}
	b, err := readBundleFileForVerify(o.bundlePath)
	if err != nil {
		return err
	}
	var artifact verify.Artifact
	if strings.HasPrefix(artifactArg, "sha256:") {
		artifact, err = verify.ParseArtifactDigest(artifactArg)
	} else {
		artifact, err = artifactDigestsOfFile(artifactArg, verify.BundleHashes(b))
	}
	if err != nil {
		return err
	}
	v, err := verify.New(trusted)
	if err != nil {
		return err
	}
	if _, err := v.Verify(b, artifact, policy); err != nil {
		return err
	}
	fmt.Fprintln(cmd.OutOrStdout(), "Verified OK")
	return nil
}

// readBundleFileForVerify reads and parses a bundle file, refusing one larger than bundle.MaxBundleSize.
func readBundleFileForVerify(path string) (*protobundle.Bundle, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading --bundle: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, bundle.MaxBundleSize+1))
	if err != nil {
		return nil, fmt.Errorf("reading --bundle %s: %w", path, err)
	}
	b, err := bundle.Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return b, nil
}

// artifactDigestsOfFile streams a file's digests under the given hashes.
func artifactDigestsOfFile(path string, hashes []crypto.Hash) (verify.Artifact, error) {
	f, err := os.Open(path)
	if err != nil {
		return verify.Artifact{}, fmt.Errorf("reading artifact: %w", err)
	}
	defer f.Close()
	return verify.ArtifactReader(f, hashes...)
}
