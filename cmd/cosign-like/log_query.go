package main

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	commonv1 "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	"github.com/spf13/cobra"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/cosign-like/cosign-like/pkg/tlog"
	"github.com/cosign-like/cosign-like/pkg/tlog/logclient"
)

// currentCheckpoint fetches the log's checkpoint, verifies it and checks it against the kept one.
func (o *logClientOptions) currentCheckpoint(cmd *cobra.Command) (*logclient.Client, tlog.LogKey, *tlog.Checkpoint, error) {
	keys, err := o.keys()
	if err != nil {
		return nil, tlog.LogKey{}, nil, err
	}
	state, err := o.state()
	if err != nil {
		return nil, tlog.LogKey{}, nil, err
	}
	c, err := logclient.NewClient(o.rekorURL)
	if err != nil {
		return nil, tlog.LogKey{}, nil, err
	}
	ctx := cmd.Context()
	raw, err := c.ReadCheckpoint(ctx)
	if err != nil {
		return nil, tlog.LogKey{}, nil, err
	}
	cp, key, err := tlog.OpenCheckpoint(raw, keys)
	if err != nil {
		return nil, tlog.LogKey{}, nil, fmt.Errorf("checkpoint of %s: %w", o.rekorURL, err)
	}
	if err := logclient.RecordCheckpoint(ctx, c, *key, state, cp); err != nil {
		return nil, tlog.LogKey{}, nil, err
	}
	return c, *key, cp, nil
}

func newLogInfoCmd() *cobra.Command {
	var o logClientOptions
	cmd := &cobra.Command{
		Use:   "info",
		Short: "Show a log's verified checkpoint (size, root hash, origin), checked for consistency",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, key, cp, err := o.currentCheckpoint(cmd)
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "origin:    %s\ntree size: %d\nroot hash: %s (%s)\nlog ID:    %s\nconsistent with the checkpoint kept before: yes\n\n%s",
				cp.Origin, cp.Size, hex.EncodeToString(cp.Hash), base64.StdEncoding.EncodeToString(cp.Hash),
				base64.StdEncoding.EncodeToString(key.KeyID), cp.Raw)
			return nil
		},
	}
	o.addFlags(cmd.Flags())
	return boundInTime(cmd)
}

func newLogGetCmd() *cobra.Command {
	var o logClientOptions
	var index int64
	var output string
	var sel v1Selector
	cmd := &cobra.Command{
		Use:   "get",
		Short: "Print one log entry after checking its inclusion proof against the verified checkpoint",
		Long: `Print one log entry after checking its inclusion proof against the verified checkpoint.
--index reads the Rekor v2 API's tiles; --uuid or --log-index ask the Rekor v1 API, check the
entry's SET and inclusion proof, and print it as rekor-cli get does.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if output != "text" && output != "json" {
				return fmt.Errorf("-o %q: want text or json", output)
			}
			if sel.given() {
				if cmd.Flags().Changed("index") {
					return fmt.Errorf("pass --index (Rekor v2 API) or --uuid/--log-index (Rekor v1 API), not both")
				}
				return runLogGetV1(cmd, &o, &sel, output)
			}
			if !cmd.Flags().Changed("index") {
				return fmt.Errorf("pass --index (Rekor v2 API), or --uuid or --log-index (Rekor v1 API)")
			}
			if index < 0 { // given, but negative
				return fmt.Errorf("--index is required (>= 0)")
			}
			c, key, cp, err := o.currentCheckpoint(cmd)
			if err != nil {
				return err
			}
			tle, err := c.Entry(cmd.Context(), uint64(index), cp)
			if err != nil {
				return err
			}
			tle.LogId = &commonv1.LogId{KeyId: key.KeyID}
			if _, err := tlog.VerifyEntry(tle, []tlog.LogKey{key}, nil); err != nil {
				return err
			}
			if output == "json" {
				b, err := protojson.MarshalOptions{Multiline: true, Indent: "  "}.Marshal(tle)
				if err != nil {
					return fmt.Errorf("encoding entry: %w", err)
				}
				fmt.Fprintln(cmd.OutOrStdout(), string(b))
				return nil
			}
			printEntry(cmd.OutOrStdout(), uint64(index), tle.CanonicalizedBody)
			fmt.Fprintf(cmd.OutOrStdout(), "inclusion proof: verified in tree of size %d (root %x)\n", cp.Size, cp.Hash)
			return nil
		},
	}
	o.addFlags(cmd.Flags())
	cmd.Flags().Int64Var(&index, "index", -1, "entry index (Rekor v2 API)")
	sel.addFlags(cmd.Flags())
	cmd.Flags().StringVarP(&output, "output", "o", "text", "output format: text or json")
	cmd.Flags().SetNormalizeFunc(rekorServerAlias)
	return boundInTime(cmd)
}

// printEntry describes a hashedrekord entry for a person.
func printEntry(w io.Writer, index uint64, body []byte) {
	fmt.Fprintf(w, "index:     %d\n", index)
	e, err := tlog.ParseHashedRekordEntry(body)
	if err != nil {
		fmt.Fprintf(w, "body:      %s\n(not a hashedrekord 0.0.2 entry: %v)\n", body, err)
		return
	}
	fmt.Fprintf(w, "kind:      hashedrekord 0.0.2\nalgorithm: %s\ndigest:    %s\nsignature: %s\n",
		e.KeyDetails, hex.EncodeToString(e.Digest), base64.StdEncoding.EncodeToString(e.Signature))
	m, _ := logclient.DescribeEntry(index, body)
	if e.IsCertificate {
		fmt.Fprintf(w, "identity:  %s\nissuer:    %s\n", strings.Join(m.Identities, ", "), m.Issuer)
	} else {
		fmt.Fprintf(w, "public key: %s\n", base64.StdEncoding.EncodeToString(e.Verifier))
	}
}

func newLogVerifyCmd() *cobra.Command {
	var o logClientOptions
	var w witnessOptions
	var bundlePath string
	var eo v1EntryOptions
	var sel v1Selector
	cmd := &cobra.Command{
		Use:   "verify",
		Short: "Check that a bundle's entry is in the log: proof, checkpoint, and the log's current state",
		Long: `Check that a bundle's entry is in the log: proof, checkpoint, and the log's current state.
With --artifact, --signature and --public-key (and --pki-format, --type), or --uuid or
--log-index, check an entry of the Rekor v1 API instead, as rekor-cli verify does: the
signature over the artifact, the log's entry body against it, the entry's SET and its inclusion
proof under a checkpoint the trusted key signed; an error names the step that failed.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if eo.given() || sel.given() {
				if bundlePath != "" {
					return fmt.Errorf("pass --bundle, or an entry of the Rekor v1 API (--artifact, --signature, --public-key, or --uuid, --log-index), not both")
				}
				if cmd.Flags().Changed("witness-policy") {
					return fmt.Errorf("--witness-policy applies to --bundle: the Rekor v1 API's checkpoints carry no cosignatures")
				}
				return runLogVerifyV1(cmd, &o, &eo, &sel)
			}
			if bundlePath == "" {
				return fmt.Errorf("pass --bundle, or --artifact with --signature and --public-key, or --uuid or --log-index")
			}
			keys, err := o.keys()
			if err != nil {
				return err
			}
			witnesses, err := w.load()
			if err != nil {
				return err
			}
			state, err := o.state()
			if err != nil {
				return err
			}
			raw, err := os.ReadFile(bundlePath)
			if err != nil {
				return fmt.Errorf("reading bundle: %w", err)
			}
			res, err := logclient.VerifyBundleInLog(cmd.Context(), raw, o.rekorURL, keys, state)
			if err != nil {
				return err
			}
			if err := logclient.CheckWitnessed(res, witnesses); err != nil {
				return err
			}
			for _, r := range res {
				fmt.Fprintf(cmd.OutOrStdout(), "entry %d: inclusion proof verified in checkpoint of size %d; present in the log at size %d (root %x)\n",
					r.Index, r.EntryCheckpoint.Size, r.LogCheckpoint.Size, r.LogCheckpoint.Hash)
			}
			return nil
		},
	}
	o.addFlags(cmd.Flags())
	w.addFlags(cmd.Flags())
	cmd.Flags().StringVar(&bundlePath, "bundle", "", "Sigstore bundle (JSON)")
	eo.addFlags(cmd.Flags())
	sel.addFlags(cmd.Flags())
	cmd.Flags().SetNormalizeFunc(rekorServerAlias)
	return boundInTime(cmd)
}

func newLogMonitorCmd() *cobra.Command {
	var o logClientOptions
	var q logclient.MonitorQuery
	var keyPath string
	var from uint64
	var follow bool
	var interval time.Duration
	var witnessPolicy string
	cmd := &cobra.Command{
		Use:   "monitor",
		Short: "Walk log entries and print those signed by an identity or key; fail on any inconsistency",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if (q.Identity == "") == (keyPath == "") {
				return fmt.Errorf("pass either --certificate-identity (with --certificate-oidc-issuer) or --key")
			}
			if q.Identity != "" && q.Issuer == "" { // required only with --certificate-identity
				return fmt.Errorf("--certificate-oidc-issuer is required with --certificate-identity")
			}
			if keyPath != "" {
				der, err := readPublicKeyPEM(keyPath)
				if err != nil {
					return err
				}
				q.PublicKey = der
			}
			keys, err := o.keys()
			if err != nil {
				return err
			}
			if len(keys) > 1 {
				// A log serving both APIs is listed with its v2 key and its v1 key: monitor
				// follows the v2 tree, whose checkpoint one of them signs.
				if keys, err = checkpointKey(cmd.Context(), o.rekorURL, keys); err != nil {
					return err
				}
			}
			if len(keys) != 1 {
				return fmt.Errorf("the trusted root lists %d keys for %s; monitor needs exactly one", len(keys), o.rekorURL)
			}
			state, err := o.state()
			if err != nil {
				return err
			}
			mo := logclient.MonitorOptions{
				BaseURL: o.rekorURL, Key: keys[0], StateDir: state, From: from, Follow: follow, Interval: interval,
			}
			if witnessPolicy != "" {
				if mo.WitnessPolicy, err = (&witnessOptions{policy: witnessPolicy}).load(); err != nil {
					return err
				}
				mo.OnWitness = func(v logclient.WitnessView) { printWitnessView(cmd.ErrOrStderr(), v) }
			}
			w := cmd.OutOrStdout()
			n := 0
			cp, err := logclient.Monitor(cmd.Context(), mo, q, func(m logclient.MonitorMatch) error {
				n++
				if m.Entry.IsCertificate {
					_, err := fmt.Fprintf(w, "%d\tidentity=%s\tissuer=%s\tdigest=%x\n", m.Index, strings.Join(m.Identities, ","), m.Issuer, m.Entry.Digest)
					return err
				}
				_, err := fmt.Fprintf(w, "%d\tkey\tdigest=%x\n", m.Index, m.Entry.Digest)
				return err
			})
			if cp != nil {
				fmt.Fprintf(cmd.ErrOrStderr(), "examined entries up to %d (checkpoint %s); %d matched\n", cp.Size, cp, n)
			}
			if errors.Is(err, logclient.ErrLogInconsistent) {
				return fmt.Errorf("LOG INCONSISTENCY: %w", err)
			}
			return err
		},
	}
	o.addFlags(cmd.Flags())
	fs := cmd.Flags()
	fs.StringVar(&q.Identity, "certificate-identity", "", "certificate identity (email or URI) to look for")
	fs.StringVar(&q.Issuer, "certificate-oidc-issuer", "", "OIDC issuer of that identity")
	fs.StringVar(&keyPath, "key", "", "public key (PEM) to look for")
	fs.Uint64Var(&from, "from", 0, "first entry index to examine")
	fs.BoolVar(&follow, "follow", false, "keep watching for new entries")
	fs.DurationVar(&interval, "interval", 5*time.Second, "polling interval with --follow")
	fs.StringVar(&witnessPolicy, "witness-policy", "", "C2SP tlog-policy file: compare each checkpoint with the latest one each of its witnesses (with a URL) cosigned; fail on a fork")
	return boundInTime(cmd, "follow")
}

// printWitnessView reports, for log monitor --witness-policy, what one witness cosigned.
func printWitnessView(w io.Writer, v logclient.WitnessView) {
	switch {
	case v.Err != nil:
		fmt.Fprintf(w, "warning: witness %s (%s): %v\n", v.Witness, v.URL, v.Err)
	case v.Checkpoint == nil:
		fmt.Fprintf(w, "witness %s (%s) has cosigned no checkpoint of this log\n", v.Witness, v.URL)
	default:
		fmt.Fprintf(w, "witness %s (%s) cosigned checkpoint %s: consistent\n", v.Witness, v.URL, v.Checkpoint)
	}
}

// checkpointKey returns the one of keys that signs the current checkpoint of the log at url.
func checkpointKey(ctx context.Context, url string, keys []tlog.LogKey) ([]tlog.LogKey, error) {
	c, err := logclient.NewClient(url)
	if err != nil {
		return nil, err
	}
	_, k, err := c.SignedCheckpoint(ctx, keys)
	if err != nil {
		return nil, fmt.Errorf("the trusted root lists %d keys for %s: %w", len(keys), url, err)
	}
	return []tlog.LogKey{k}, nil
}
