package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/cosign-like/cosign-like/internal/fsutil"
	"github.com/cosign-like/cosign-like/pkg/cosign"
	"github.com/cosign-like/cosign-like/pkg/verify"
)

func init() { addCommand(newVerifyCmd) }

// verifyOptions are the flags of `verify`.
type verifyOptions struct {
	registry     registryOptions
	verification verificationOptions
	annotations  annotationOptions
	output       string
	outputFile   string
	localImage   bool
}

func newVerifyCmd() *cobra.Command {
	var o verifyOptions
	cmd := &cobra.Command{
		Use:   "verify [flags] IMAGE",
		Short: "Verify the signatures attached to a container image",
		Long: `Verify finds the signatures attached to IMAGE, in both the bundle (referrers) layout and
cosign's legacy .sig layout, and prints each one that passes every check. It exits non-zero,
saying why, when none does.`,
		Example: `  cosign-like verify --key cosign.pub registry.example.com/app:v1
  cosign-like verify --key cosign.pub -a build=42 -o text registry.example.com/app@sha256:...`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runVerify(cmd, &o, args[0])
		},
	}
	fs := cmd.Flags()
	o.registry.addFlags(fs)
	o.verification.addFlags(fs)
	o.annotations.addFlags(fs, "annotation key=value the signature must carry (repeatable)")
	fs.StringVarP(&o.output, "output", "o", "json", "output format: json or text")
	fs.StringVar(&o.outputFile, "output-file", "", "write the verified signatures to this file instead of standard output")
	fs.BoolVar(&o.localImage, "local-image", false, "IMAGE is the path of an OCI layout directory written by save (verified offline)")
	return boundInTime(cmd)
}

func runVerify(cmd *cobra.Command, o *verifyOptions, ref string) error {
	ctx := cmd.Context()
	if o.output != "json" && o.output != "text" {
		return fmt.Errorf("--output %q: want json or text", o.output)
	}
	ann, err := o.annotations.parse()
	if err != nil {
		return err
	}
	regOpts, err := o.registry.ociOptions()
	if err != nil {
		return err
	}
	v, policy, err := o.verification.build(cmd)
	if err != nil {
		return err
	}
	vo := cosign.VerifyOptions{Verifier: v, Policy: policy, Annotations: ann, Registry: regOpts}
	if o.localImage {
		verified, err := cosign.VerifyLocalImage(ctx, ref, vo)
		if err != nil {
			return err
		}
		return o.print(cmd, verified)
	}
	verified, err := cosign.VerifyImage(ctx, ref, vo)
	if err != nil {
		return err
	}
	results := make([]*verify.Result, 0, len(verified))
	for _, v := range verified {
		results = append(results, v.Result)
	}
	if err := o.verification.checkLogs(cmd, results...); err != nil {
		return err
	}
	return o.print(cmd, verified)
}

// print writes what was verified to standard output, or to --output-file.
func (o *verifyOptions) print(cmd *cobra.Command, verified []cosign.VerifiedSignature) error {
	if o.outputFile == "" {
		return printVerified(cmd.OutOrStdout(), o.output, verified)
	}
	var buf bytes.Buffer
	if err := printVerified(&buf, o.output, verified); err != nil {
		return err
	}
	return fsutil.WriteFileAtomic(o.outputFile, buf.Bytes(), 0o644)
}

// verifiedOutput is what `verify -o json` prints for each verified signature.
type verifiedOutput struct {
	Image       string            `json:"image"`
	Layout      string            `json:"layout"`
	Key         string            `json:"key,omitempty"`
	Identity    string            `json:"identity,omitempty"`
	Issuer      string            `json:"issuer,omitempty"`
	SigningTime string            `json:"signingTime,omitempty"`
	TlogIndex   []int64           `json:"tlogIndex,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

func printVerified(w io.Writer, format string, vs []cosign.VerifiedSignature) error {
	outs := make([]verifiedOutput, 0, len(vs))
	for _, v := range vs {
		outs = append(outs, toOutput(v))
	}
	if format == "text" {
		for _, o := range outs {
			fmt.Fprintf(w, "Verified %s (%s layout)\n", o.Image, o.Layout)
			if o.Key != "" {
				fmt.Fprintf(w, "  key:       %s\n", o.Key)
			}
			if o.Identity != "" {
				fmt.Fprintf(w, "  identity:  %s\n  issuer:    %s\n", o.Identity, o.Issuer)
			}
			if o.SigningTime != "" {
				fmt.Fprintf(w, "  signed at: %s\n", o.SigningTime)
			}
			for _, k := range sortedKeys(o.Annotations) {
				fmt.Fprintf(w, "  %s=%s\n", k, o.Annotations[k])
			}
		}
		return nil
	}
	return writeJSON(w, outs)
}

func toOutput(v cosign.VerifiedSignature) verifiedOutput {
	o := verifiedOutput{Image: v.Digest.String(), Layout: string(v.Layout), Annotations: v.Annotations}
	if r := v.Result; r != nil {
		if r.KeyHint != "" {
			o.Key = r.KeyHint
		}
		if r.Identity != nil {
			o.Identity = strings.Join(r.Identity.SubjectAlternativeNames, ", ")
			o.Issuer = r.Identity.Issuer
		}
		if !r.SigningTime.IsZero() {
			o.SigningTime = r.SigningTime.UTC().Format(time.RFC3339)
		}
		for _, e := range r.TlogEntries {
			o.TlogIndex = append(o.TlogIndex, e.LogIndex)
		}
	}
	return o
}

// writeJSON writes v as indented JSON.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// sortedKeys returns the keys of m in order, for stable output.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
