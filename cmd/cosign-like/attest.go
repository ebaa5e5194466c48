package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/cosign-like/cosign-like/internal/fsutil"
	"github.com/cosign-like/cosign-like/internal/limitio"
	"github.com/cosign-like/cosign-like/pkg/attest"
	"github.com/cosign-like/cosign-like/pkg/bundle"
	"github.com/cosign-like/cosign-like/pkg/cosign"
	"github.com/cosign-like/cosign-like/pkg/oci"
	"github.com/cosign-like/cosign-like/pkg/verify"
)

func init() {
	addCommand(newAttestCmd)
	addCommand(newVerifyAttestationCmd)
	addCommand(newAttestBlobCmd)
	addCommand(newVerifyBlobAttestationCmd)
}

// predicateOptions say what to attest: a predicate file and its type, or a ready statement.
type predicateOptions struct {
	predicate string
	typ       string
	statement string
	maxSize   int64
}

func (o *predicateOptions) addFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.predicate, "predicate", "", "the predicate file: an SPDX or CycloneDX SBOM, SLSA provenance, ... ('-' reads standard input)")
	fs.StringVar(&o.typ, "type", "custom", "predicate type: "+strings.Join(attest.TypeNames(), ", ")+", or a URI")
	fs.StringVar(&o.statement, "statement", "", "a ready in-toto statement to sign as it is, instead of --predicate (its subject must be what is attested)")
	fs.Int64Var(&o.maxSize, "max-attestation-size", attest.DefaultMaxAttestationSize, "largest predicate or statement read, in bytes")
}

// options reads the predicate or statement into attestation options.
func (o *predicateOptions) options(cmd *cobra.Command, fs *pflag.FlagSet) (cosign.AttestOptions, error) {
	var ao cosign.AttestOptions
	if (o.predicate == "") == (o.statement == "") {
		return ao, errors.New("give exactly one of --predicate and --statement")
	}
	if o.statement != "" {
		data, err := readInput(cmd, o.statement, o.maxSize, "statement")
		if err != nil {
			return ao, err
		}
		ao.Statement = data
		if fs.Changed("type") {
			if ao.PredicateType, err = attest.PredicateType(o.typ); err != nil {
				return ao, fmt.Errorf("--type: %w", err)
			}
		}
		return ao, nil
	}
	uri, err := attest.PredicateType(o.typ)
	if err != nil {
		return ao, fmt.Errorf("--type: %w", err)
	}
	ao.PredicateType = uri
	if ao.Predicate, err = readInput(cmd, o.predicate, o.maxSize, "predicate"); err != nil {
		return ao, err
	}
	return ao, nil
}

// readInput reads a file ("-": the command's standard input) within max bytes.
func readInput(cmd *cobra.Command, path string, max int64, what string) ([]byte, error) {
	if path == "-" {
		return attest.ReadBounded(cmd.InOrStdin(), max, what+" from standard input")
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	defer f.Close()
	return attest.ReadBounded(f, max, what+" "+path)
}

// attestOptions are the flags of `attest`.
type attestOptions struct {
	registry        registryOptions
	signing         signingOptions
	predicate       predicateOptions
	newBundleFormat bool
	yes             bool
}

func newAttestCmd() *cobra.Command {
	var o attestOptions
	cmd := &cobra.Command{
		Use:   "attest [flags] IMAGE",
		Short: "Attest a container image: sign an in-toto statement of a predicate about it and attach it",
		Long: `Attest builds an in-toto v1 statement whose subject is the image digest and whose predicate
is the --predicate file (checked to parse as --type says), signs it into a DSSE envelope and
attaches it to the image: a Sigstore bundle referrer by default, or cosign's legacy .att tag
with --new-bundle-format=false. The log entry is a hashedrekord over the DSSE
pre-authentication encoding, so a large SBOM never meets a log size limit.`,
		Example: `  cosign-like attest --key cosign.key --type spdxjson --predicate sbom.spdx.json registry.example.com/app@sha256:...
  cosign-like attest --type slsaprovenance1 --predicate provenance.json registry.example.com/app:v1   # keyless`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runAttest(cmd, &o, args[0])
		},
	}
	fs := cmd.Flags()
	o.registry.addFlags(fs)
	o.signing.addFlags(fs)
	o.predicate.addFlags(fs)
	fs.BoolVar(&o.newBundleFormat, "new-bundle-format", true, "attach a Sigstore bundle as an OCI referrer; false writes cosign's legacy .att tag")
	fs.BoolVarP(&o.yes, "yes", "y", false, "skip confirmation prompts")
	return boundInTime(cmd)
}

func runAttest(cmd *cobra.Command, o *attestOptions, ref string) error {
	ctx := cmd.Context()
	if _, err := name.ParseReference(ref); err != nil {
		return fmt.Errorf("image reference %q: %w", ref, err)
	}
	ao, err := o.predicate.options(cmd, cmd.Flags())
	if err != nil {
		return err
	}
	if ao.Registry, err = o.registry.ociOptions(); err != nil {
		return err
	}
	if ao.Signer, ao.BundleOptions, err = o.signing.setup(cmd); err != nil {
		return err
	}
	if _, err := name.NewDigest(ref); err != nil {
		fmt.Fprintf(cmd.ErrOrStderr(), "WARNING: %q is a tag, which can be moved to another image: attesting the digest it points to now.\n", ref)
	}
	ao.Legacy = !o.newBundleFormat
	a, err := cosign.AttestImage(ctx, ref, ao)
	if err != nil {
		return err
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "Attested %s with a %s statement (%s layout)\n", a.Digest, a.PredicateType, a.Layout)
	return nil
}

// verifyAttestationOptions are the flags of `verify-attestation`.
type verifyAttestationOptions struct {
	registry     registryOptions
	verification verificationOptions
	rules        ruleOptions
	typ          string
	maxSize      int64
	localImage   bool
	output       string
}

// ruleOptions name the policy files (Rego, or CUE for a .cue file) statements must satisfy.
type ruleOptions struct {
	files []string
}

func (o *ruleOptions) addFlags(fs *pflag.FlagSet) {
	fs.StringArrayVar(&o.files, "policy", nil, "policy file every verified statement must satisfy: Rego (rules allow, which must be true, and deny, which must be empty, of its package), or CUE for a .cue file (the statement must unify with it); repeatable")
}

// compile returns the compiled policies, one per file, each checked in turn.
func (o *ruleOptions) compile(cmd *cobra.Command) ([]*attest.Policy, error) {
	var out []*attest.Policy
	for _, f := range o.files {
		data, err := limitio.ReadFile(f, attest.MaxPolicySize)
		if err != nil {
			return nil, fmt.Errorf("--policy: %w", err)
		}
		var p *attest.Policy
		if filepath.Ext(f) == ".cue" {
			p, err = attest.CompileCUEFile(filepath.Base(f), data)
		} else {
			p, err = attest.CompilePolicy(cmd.Context(), filepath.Base(f), data)
		}
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

func newVerifyAttestationCmd() *cobra.Command {
	var o verifyAttestationOptions
	cmd := &cobra.Command{
		Use:   "verify-attestation [flags] IMAGE",
		Short: "Verify the attestations attached to a container image and check them against policies",
		Long: `Verify-attestation finds the attestations attached to IMAGE (both layouts; at most
--max-signatures are considered), checks each signature exactly as verify does, then that the
statement's subject is this image, that its predicate type is --type, that the predicate parses
as that type, and that it satisfies every --policy. It prints the verified attestations and
exits non-zero, saying why, when none verifies or any breaks a policy. With --local-image,
IMAGE is an OCI layout directory written by save, and nothing else is read.`,
		Example: `  cosign-like verify-attestation --key cosign.pub --type spdxjson --policy sbom.rego registry.example.com/app:v1
  cosign-like verify-attestation --type slsaprovenance1 --certificate-identity https://github.com/org/repo/.github/workflows/release.yml@refs/tags/v1 \
      --certificate-oidc-issuer https://token.actions.githubusercontent.com registry.example.com/app:v1`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runVerifyAttestation(cmd, &o, args[0])
		},
	}
	fs := cmd.Flags()
	o.registry.addFlags(fs)
	o.verification.addFlags(fs)
	o.rules.addFlags(fs)
	fs.StringVar(&o.typ, "type", "custom", "predicate type to verify: "+strings.Join(attest.TypeNames(), ", ")+", or a URI")
	fs.Int64Var(&o.maxSize, "max-attestation-size", attest.DefaultMaxAttestationSize, "largest attestation read, in bytes")
	fs.BoolVar(&o.localImage, "local-image", false, "IMAGE is the path of an OCI layout directory written by save")
	fs.StringVarP(&o.output, "output", "o", "json", "output format: json (cosign's: one DSSE envelope per line) or text")
	return boundInTime(cmd)
}

// attestationVerifyOptions turns --type, --policy and --max-attestation-size plus the
// verification flags into client options.
func attestationVerifyOptions(cmd *cobra.Command, ver *verificationOptions, rules *ruleOptions, typ string, maxSize int64) (cosign.VerifyAttestationOptions, error) {
	var vo cosign.VerifyAttestationOptions
	uri, err := attest.PredicateType(typ)
	if err != nil {
		return vo, fmt.Errorf("--type: %w", err)
	}
	policies, err := rules.compile(cmd)
	if err != nil {
		return vo, err
	}
	v, policy, err := ver.build(cmd)
	if err != nil {
		return vo, err
	}
	return cosign.VerifyAttestationOptions{Verifier: v, Policy: policy, PredicateType: uri, MaxAttestationSize: maxSize, Rules: policies}, nil
}

func runVerifyAttestation(cmd *cobra.Command, o *verifyAttestationOptions, ref string) error {
	ctx := cmd.Context()
	if o.output != "json" && o.output != "text" {
		return fmt.Errorf("--output %q: want json or text", o.output)
	}
	if o.maxSize > o.registry.maxBlobSize {
		o.registry.maxBlobSize = o.maxSize
	}
	regOpts, err := o.registry.ociOptions()
	if err != nil {
		return err
	}
	vo, err := attestationVerifyOptions(cmd, &o.verification, &o.rules, o.typ, o.maxSize)
	if err != nil {
		return err
	}
	vo.Registry = regOpts
	var verified []cosign.VerifiedAttestation
	if o.localImage {
		verified, err = cosign.VerifyLocalImageAttestations(ctx, ref, vo)
	} else {
		verified, err = cosign.VerifyImageAttestations(ctx, ref, vo)
	}
	if errors.Is(err, oci.ErrLimitExceeded) {
		return fmt.Errorf("%w (at most --max-signatures=%d attestations are considered)", err, o.registry.maxArtifacts)
	}
	if err != nil {
		return err
	}
	if !o.localImage {
		// Online, as verify: the log must not have forked or rolled back since last seen. A
		// saved layout is verified offline.
		results := make([]*verify.Result, 0, len(verified))
		for _, va := range verified {
			results = append(results, va.Result)
		}
		if err := o.verification.checkLogs(cmd, results...); err != nil {
			return err
		}
	}
	return printAttestations(cmd.OutOrStdout(), cmd.ErrOrStderr(), o.output, verified)
}

func describeVerified(va cosign.VerifiedAttestation) string {
	if va.Digest.String() != "" && va.Digest.DigestStr() != "" {
		return fmt.Sprintf("%s attestation of %s (%s layout)", va.PredicateType, va.Digest, va.Layout)
	}
	return va.PredicateType + " attestation"
}

// printAttestations writes each verified attestation: as cosign does with -o json, its DSSE
// envelope on one line; with -o text, a summary.
func printAttestations(out, errOut io.Writer, format string, vs []cosign.VerifiedAttestation) error {
	for _, va := range vs {
		if format == "text" {
			fmt.Fprintf(out, "Verified %s\n", describeVerified(va))
			if r := va.Result; r != nil {
				if r.KeyHint != "" {
					fmt.Fprintf(out, "  key:       %s\n", r.KeyHint)
				}
				if r.Identity != nil {
					fmt.Fprintf(out, "  identity:  %s\n  issuer:    %s\n", strings.Join(r.Identity.SubjectAlternativeNames, ", "), r.Identity.Issuer)
				}
				if !r.SigningTime.IsZero() {
					fmt.Fprintf(out, "  signed at: %s\n", r.SigningTime.UTC().Format(time.RFC3339))
				}
			}
			continue
		}
		env, err := attest.MarshalEnvelope(bundle.PayloadTypeInToto, va.Statement, va.Signature)
		if err != nil {
			return err
		}
		fmt.Fprintln(out, string(env))
	}
	if format == "json" {
		for _, va := range vs {
			fmt.Fprintf(errOut, "Verified %s\n", describeVerified(va))
		}
	}
	return nil
}

// attestBlobOptions are the flags of `attest-blob`.
type attestBlobOptions struct {
	signing    signingOptions
	predicate  predicateOptions
	bundlePath string
}

func newAttestBlobCmd() *cobra.Command {
	var o attestBlobOptions
	cmd := &cobra.Command{
		Use:     "attest-blob [flags] FILE",
		Short:   "Attest a file: sign an in-toto statement of a predicate about it into a Sigstore bundle",
		Example: `  cosign-like attest-blob --key cosign.key --type cyclonedx --predicate sbom.cdx.json --bundle app.att.sigstore.json app.tar.gz`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runAttestBlob(cmd, &o, args[0])
		},
	}
	fs := cmd.Flags()
	o.signing.addFlags(fs)
	o.predicate.addFlags(fs)
	fs.StringVar(&o.bundlePath, "bundle", "", "write the Sigstore bundle to this file (required)")
	markRequired(fs, "bundle", "the file to write the Sigstore bundle to")
	return boundInTime(cmd)
}

func runAttestBlob(cmd *cobra.Command, o *attestBlobOptions, path string) error {
	ao, err := o.predicate.options(cmd, cmd.Flags())
	if err != nil {
		return err
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if ao.Signer, ao.BundleOptions, err = o.signing.setup(cmd); err != nil {
		return err
	}
	a, err := cosign.AttestBlob(cmd.Context(), f, filepath.Base(path), ao)
	if err != nil {
		return err
	}
	if err := fsutil.WriteFileAtomicFrom(o.bundlePath, 0o644, a.WriteBundle); err != nil {
		return fmt.Errorf("writing the bundle: %w", err)
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "Wrote the %s attestation of %s to %s\n", a.PredicateType, path, o.bundlePath)
	return nil
}

// verifyBlobAttestationOptions are the flags of `verify-blob-attestation`.
type verifyBlobAttestationOptions struct {
	verification verificationOptions
	rules        ruleOptions
	typ          string
	maxSize      int64
	bundlePath   string
}

func newVerifyBlobAttestationCmd() *cobra.Command {
	var o verifyBlobAttestationOptions
	cmd := &cobra.Command{
		Use:     "verify-blob-attestation [flags] FILE",
		Short:   "Verify a file's attestation bundle: signature, subject, predicate type and policies",
		Example: `  cosign-like verify-blob-attestation --key cosign.pub --type cyclonedx --bundle app.att.sigstore.json app.tar.gz`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runVerifyBlobAttestation(cmd, &o, args[0])
		},
	}
	fs := cmd.Flags()
	o.verification.addFlags(fs)
	o.rules.addFlags(fs)
	fs.StringVar(&o.typ, "type", "custom", "predicate type to verify: "+strings.Join(attest.TypeNames(), ", ")+", or a URI")
	fs.Int64Var(&o.maxSize, "max-attestation-size", attest.DefaultMaxAttestationSize, "largest bundle read, in bytes")
	fs.StringVar(&o.bundlePath, "bundle", "", "the attestation's Sigstore bundle (required)")
	markRequired(fs, "bundle", "the attestation's Sigstore bundle")
	return boundInTime(cmd)
}

func runVerifyBlobAttestation(cmd *cobra.Command, o *verifyBlobAttestationOptions, path string) error {
	data, err := limitio.ReadFile(o.bundlePath, o.maxSize)
	if err != nil {
		return err
	}
	b, err := bundle.Parse(data)
	if err != nil {
		return fmt.Errorf("bundle %s: %w", o.bundlePath, err)
	}
	vo, err := attestationVerifyOptions(cmd, &o.verification, &o.rules, o.typ, o.maxSize)
	if err != nil {
		return err
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	va, err := cosign.VerifyBlobAttestation(cmd.Context(), f, b, vo)
	if err != nil {
		return err
	}
	if err := o.verification.checkLogs(cmd, va.Result); err != nil {
		return err
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "Verified OK: %s attestation of %s\n", va.PredicateType, path)
	return nil
}

// newDownloadAttestationCmd is `download attestation`: each attestation attached to an image,
// one JSON line each (the bundle, or the legacy layer's DSSE envelope, as cosign prints it),
// optionally only those whose predicate type annotation is --predicate-type.
func newDownloadAttestationCmd() *cobra.Command {
	var (
		reg           registryOptions
		predicateType string
	)
	cmd := &cobra.Command{
		Use:   "attestation [--predicate-type URI] IMAGE",
		Short: "Print each attestation attached to an image as one JSON line (bundle, or legacy envelope)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var want string
			if predicateType != "" {
				var err error
				if want, err = attest.PredicateType(predicateType); err != nil {
					return fmt.Errorf("--predicate-type: %w", err)
				}
			}
			subject, found, err := reg.listAttached(cmd, args[0], []oci.Kind{oci.KindAttestation})
			if err != nil {
				return err
			}
			var keep []oci.Attached
			for _, a := range found {
				t := a.Annotations[oci.AnnotationBundlePredicateType]
				if a.Layout == oci.LayoutLegacy {
					t = a.Annotations[oci.AnnotationPredicateType]
				}
				if want == "" || t == want {
					keep = append(keep, a)
				}
			}
			if len(keep) == 0 {
				if want != "" {
					return fmt.Errorf("no attestation of predicate type %s attached to %s (%d of other types)", want, subject, len(found))
				}
				return fmt.Errorf("no attestation attached to %s", subject)
			}
			for _, a := range keep {
				// As cosign prints them: the bundle, or the legacy layer's DSSE envelope, one
				// compact JSON document per line.
				var buf bytes.Buffer
				if err := json.Compact(&buf, a.Bytes); err != nil {
					return fmt.Errorf("attestation %s is not JSON: %w", a.Descriptor.Digest, err)
				}
				fmt.Fprintln(cmd.OutOrStdout(), buf.String())
			}
			return nil
		},
	}
	reg.addFlags(cmd.Flags())
	cmd.Flags().StringVar(&predicateType, "predicate-type", "", "only attestations of this predicate type (a --type name or URI)")
	return boundInTime(cmd)
}
