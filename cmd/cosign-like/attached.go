package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/spf13/cobra"

	"github.com/cosign-like/cosign-like/pkg/bundle"
	"github.com/cosign-like/cosign-like/pkg/cosign"
	"github.com/cosign-like/cosign-like/pkg/oci"
)

func init() {
	addCommand(newTreeCmd)
	addCommand(newDownloadCmd)
	addCommand(newCleanCmd)
}

func newTreeCmd() *cobra.Command {
	var reg registryOptions
	cmd := &cobra.Command{
		Use:   "tree IMAGE",
		Short: "Show the signatures, attestations and SBOMs attached to an image, in both layouts",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			subject, found, err := reg.listAttached(cmd, args[0], oci.AllKinds())
			if err != nil {
				return err
			}
			printTree(cmd.OutOrStdout(), subject.String(), found)
			return nil
		},
	}
	reg.addFlags(cmd.Flags())
	return boundInTime(cmd)
}

// printTree writes what is attached, grouped by kind, in the order found.
func printTree(w io.Writer, subject string, found []oci.Attached) {
	fmt.Fprintf(w, "📦 %s\n", subject)
	if len(found) == 0 {
		fmt.Fprintln(w, "└── (nothing attached)")
		return
	}
	titles := map[oci.Kind]string{
		oci.KindSignature:   "🔐 Signatures",
		oci.KindAttestation: "💾 Attestations",
		oci.KindSBOM:        "📄 SBOMs",
	}
	kinds := oci.AllKinds()
	var groups [][]oci.Attached
	for _, k := range kinds {
		var g []oci.Attached
		for _, a := range found {
			if a.Kind == k {
				g = append(g, a)
			}
		}
		groups = append(groups, g)
	}
	shown := 0
	for _, g := range groups {
		if len(g) > 0 {
			shown++
		}
	}
	n := 0
	for i, k := range kinds {
		g := groups[i]
		if len(g) == 0 {
			continue
		}
		n++
		branch, indent := "├──", "│   "
		if n == shown {
			branch, indent = "└──", "    "
		}
		fmt.Fprintf(w, "%s %s (%d)\n", branch, titles[k], len(g))
		for j, a := range g {
			leaf := "├──"
			if j == len(g)-1 {
				leaf = "└──"
			}
			fmt.Fprintf(w, "%s%s %s\n", indent, leaf, describeAttached(a))
		}
	}
}

func describeAttached(a oci.Attached) string {
	var parts []string
	if a.Layout == oci.LayoutLegacy {
		parts = append(parts, fmt.Sprintf("%s layer %s", a.Tag, a.Descriptor.Digest))
	} else {
		parts = append(parts, fmt.Sprintf("bundle %s", a.Descriptor.Digest))
	}
	if pt := a.Annotations[oci.AnnotationBundlePredicateType]; pt != "" {
		parts = append(parts, "predicate "+pt)
	} else if pt := a.Annotations[oci.AnnotationPredicateType]; pt != "" {
		parts = append(parts, "predicate "+pt)
	}
	if c := a.Annotations[oci.AnnotationCreated]; c != "" {
		parts = append(parts, "created "+c)
	}
	return strings.Join(parts, ", ")
}

func newDownloadCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "download",
		Short: "Download what is attached to an image",
	}
	cmd.AddCommand(newDownloadSignatureCmd(), newDownloadAttestationCmd())
	return cmd
}

func newDownloadSignatureCmd() *cobra.Command {
	var reg registryOptions
	cmd := &cobra.Command{
		Use:   "signature IMAGE",
		Short: "Print each signature attached to an image as one JSON line, as cosign does",
		Long: `Prints, one JSON line each, the Sigstore bundles attached to IMAGE (every bundle, attestations
included, as cosign v3 prints them) or, when it has none, the signatures of its legacy .sig tag
as cosign's {Base64Signature, Payload, Cert, Chain, Bundle, RFC3161Timestamp} objects, with
Cert and Chain as PEM strings.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts, err := reg.ociOptions()
			if err != nil {
				return err
			}
			d, err := cosign.DownloadSignatures(cmd.Context(), args[0], opts...)
			if err != nil {
				return err
			}
			return writeDownloaded(cmd.OutOrStdout(), d)
		},
	}
	reg.addFlags(cmd.Flags())
	return boundInTime(cmd)
}

// writeDownloaded prints each bundle as cosign v3 does (its protojson, compact, HTML-escaped as
// encoding/json leaves it) or each legacy signature as its SignedPayload JSON, one a line.
// Every line is encoded before the first is written.
func writeDownloaded(w io.Writer, d *cosign.DownloadedSignatures) error {
	var out bytes.Buffer
	for _, b := range d.Bundles {
		line, err := bundle.Marshal(b)
		if err != nil {
			return err
		}
		json.HTMLEscape(&out, line)
		out.WriteByte('\n')
	}
	for _, p := range d.Legacy {
		line, err := json.Marshal(p)
		if err != nil {
			return err
		}
		out.Write(line)
		out.WriteByte('\n')
	}
	_, err := w.Write(out.Bytes())
	return err
}

func newCleanCmd() *cobra.Command {
	var (
		reg   registryOptions
		typ   string
		force bool
	)
	cmd := &cobra.Command{
		Use:   "clean [--type signature|attestation|sbom|all] IMAGE",
		Short: "Remove signatures, attestations or SBOMs attached to an image, in both layouts",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			kinds, err := cleanKinds(typ)
			if err != nil {
				return err
			}
			opts, err := reg.ociOptions()
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			subject, _, err := oci.Resolve(ctx, args[0], opts...)
			if err != nil {
				return err
			}
			if err := confirm(cmd, force, fmt.Sprintf("Remove every %s attached to %s?", typ, subject)); err != nil {
				return err
			}
			removed, err := oci.Remove(ctx, subject, kinds, opts...)
			for _, r := range removed {
				fmt.Fprintf(cmd.ErrOrStderr(), "Removed %s\n", r)
			}
			if err != nil {
				return err
			}
			if len(removed) == 0 {
				fmt.Fprintf(cmd.ErrOrStderr(), "Nothing of type %s attached to %s\n", typ, subject)
			}
			return nil
		},
	}
	reg.addFlags(cmd.Flags())
	cmd.Flags().StringVar(&typ, "type", "all", "what to remove: signature, attestation, sbom or all")
	cmd.Flags().BoolVarP(&force, "force", "f", false, "do not ask for confirmation")
	return boundInTime(cmd)
}

func cleanKinds(typ string) ([]oci.Kind, error) {
	if typ == "all" {
		return oci.AllKinds(), nil
	}
	k, err := oci.ParseKind(typ)
	if err != nil {
		return nil, fmt.Errorf("--type %q: want signature, attestation, sbom or all", typ)
	}
	return []oci.Kind{k}, nil
}

// listAttached resolves ref and lists what of the given kinds is attached to it.
func (o *registryOptions) listAttached(cmd *cobra.Command, ref string, kinds []oci.Kind) (name.Digest, []oci.Attached, error) {
	opts, err := o.ociOptions()
	if err != nil {
		return name.Digest{}, nil, err
	}
	subject, _, err := oci.Resolve(cmd.Context(), ref, opts...)
	if err != nil {
		return name.Digest{}, nil, err
	}
	found, err := oci.ListAttached(cmd.Context(), subject, kinds, opts...)
	return subject, found, err
}
