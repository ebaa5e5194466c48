package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/cosign-like/cosign-like/internal/limitio"
	"github.com/cosign-like/cosign-like/pkg/tlog"
	"github.com/cosign-like/cosign-like/pkg/tlog/logclient"
	"github.com/cosign-like/cosign-like/pkg/tlog/rekortypes"
)

// Commands and flags of the Rekor v1 API, named as rekor-cli names them.

// maxV1Input bounds each file an entry is made of: Rekor's own bound on a proposed entry.
const maxV1Input = rekortypes.DefaultMaxBody

// rekorServerAlias makes rekor-cli's --rekor_server another name of --rekor-url.
func rekorServerAlias(_ *pflag.FlagSet, name string) pflag.NormalizedName {
	if name == "rekor_server" {
		name = "rekor-url"
	}
	return pflag.NormalizedName(name)
}

// v1EntryOptions are what a rekord or hashedrekord entry is made of: rekor-cli's flags.
type v1EntryOptions struct {
	artifact, signature, publicKey string
	pkiFormat, entryType           string
}

func (o *v1EntryOptions) addFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.artifact, "artifact", "", "the signed artifact (file)")
	fs.StringVar(&o.signature, "signature", "", "its detached signature (file)")
	fs.StringVar(&o.publicKey, "public-key", "", "the public key or certificate that verifies it (file)")
	fs.StringVar(&o.pkiFormat, "pki-format", "x509", "format of the signature and public key: x509, pgp, minisign or ssh")
	fs.StringVar(&o.entryType, "type", "hashedrekord", "entry type, as type[:version]: hashedrekord (x509 only) or rekord (every --pki-format)")
}

// given reports whether any of the entry's files was named.
func (o *v1EntryOptions) given() bool {
	return o.artifact != "" || o.signature != "" || o.publicKey != ""
}

// proposed builds the proposed entry rekor-cli upload would send.
func (o *v1EntryOptions) proposed() ([]byte, error) {
	if o.artifact == "" || o.signature == "" || o.publicKey == "" {
		return nil, fmt.Errorf("an entry needs --artifact, --signature and --public-key")
	}
	read := func(what, path string) ([]byte, error) {
		b, err := limitio.ReadFile(path, maxV1Input)
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", what, err)
		}
		return b, nil
	}
	artifact, err := read("artifact", o.artifact)
	if err != nil {
		return nil, err
	}
	sig, err := read("signature", o.signature)
	if err != nil {
		return nil, err
	}
	key, err := read("public key", o.publicKey)
	if err != nil {
		return nil, err
	}
	switch o.entryType {
	case "rekord", "rekord:0.0.1":
		return rekortypes.ProposeRekord(o.pkiFormat, artifact, sig, key)
	case "hashedrekord", "hashedrekord:0.0.1":
		if o.pkiFormat != "x509" {
			return nil, fmt.Errorf("--type hashedrekord takes --pki-format x509, not %q", o.pkiFormat)
		}
		digest := sha256.Sum256(artifact)
		return rekortypes.ProposeHashedRekord(digest[:], sig, key)
	}
	return nil, fmt.Errorf("--type %q: want hashedrekord[:0.0.1] or rekord[:0.0.1]", o.entryType)
}

// v1Client is the Rekor v1 client of --rekor-url.
func (o *logClientOptions) v1Client() (*logclient.V1Client, error) {
	return logclient.NewV1Client(o.rekorURL)
}

// entryURL is where the log serves the entry, as rekor-cli prints it.
func (o *logClientOptions) entryURL(uuid string) string {
	return strings.TrimSuffix(o.rekorURL, "/") + "/api/v1/log/entries/" + uuid
}

// verifyV1 checks an entry's SET and inclusion proof with the trusted key of the log and keeps
// the checkpoint the proof leads to, checked for consistency with the one kept before.
func (o *logClientOptions) verifyV1(cmd *cobra.Command, c *logclient.V1Client, e *logclient.V1Entry) (*tlog.V1EntryCheck, error) {
	keys, state, err := o.v1Trust()
	if err != nil {
		return nil, err
	}
	return logclient.CheckV1Entry(cmd.Context(), c, e, keys, state)
}

// v1Trust returns the trusted keys of the log and the state directory.
func (o *logClientOptions) v1Trust() ([]tlog.LogKey, string, error) {
	keys, err := o.keys()
	if err != nil {
		return nil, "", err
	}
	state, err := o.state()
	if err != nil {
		return nil, "", err
	}
	return keys, state, nil
}

func newLogUploadCmd() *cobra.Command {
	var o logClientOptions
	var eo v1EntryOptions
	cmd := &cobra.Command{
		Use:   "upload",
		Short: "Add a rekord or hashedrekord entry through the log's Rekor v1 API, as rekor-cli upload does",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			proposed, err := eo.proposed()
			if err != nil {
				return err
			}
			c, err := o.v1Client()
			if err != nil {
				return err
			}
			keys, state, err := o.v1Trust()
			if err != nil {
				return err
			}
			e, _, existed, err := logclient.UploadV1(cmd.Context(), c, proposed, keys, state)
			if err != nil {
				return err
			}
			if existed {
				fmt.Fprintf(cmd.OutOrStdout(), "Entry already exists; available at: %s\n", o.entryURL(e.UUID))
				return nil
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Created entry at index %d, available at: %s\n", e.Entry.LogIndex, o.entryURL(e.UUID))
			return nil
		},
	}
	o.addFlags(cmd.Flags())
	eo.addFlags(cmd.Flags())
	cmd.Flags().SetNormalizeFunc(rekorServerAlias)
	return boundInTime(cmd)
}

func newLogSearchCmd() *cobra.Command {
	var o logClientOptions
	var q tlog.V1SearchIndex
	var sha, artifact, publicKey, pkiFormat string
	cmd := &cobra.Command{
		Use:   "search",
		Short: "List the UUIDs of the entries with an artifact hash, public key or email (Rekor v1 search index)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if sha != "" && artifact != "" {
				return fmt.Errorf("pass either --sha or --artifact, not both")
			}
			if artifact != "" {
				b, err := limitio.ReadFile(artifact, maxV1Input)
				if err != nil {
					return fmt.Errorf("reading artifact: %w", err)
				}
				sum := sha256.Sum256(b)
				sha = hex.EncodeToString(sum[:])
			}
			if sha != "" {
				h, err := rekortypes.HashIndexKey(sha)
				if err != nil {
					return fmt.Errorf("--sha: %w", err)
				}
				q.Hash = h
			}
			if publicKey != "" {
				b, err := limitio.ReadFile(publicKey, maxV1Input)
				if err != nil {
					return fmt.Errorf("reading public key: %w", err)
				}
				q.PublicKey = &tlog.V1SearchPublicKey{Format: pkiFormat, Content: b}
			}
			if q.Hash == "" && q.PublicKey == nil && q.Email == "" {
				return fmt.Errorf("an index search needs --sha, --artifact, --public-key or --email")
			}
			c, err := o.v1Client()
			if err != nil {
				return err
			}
			uuids, err := c.SearchIndex(cmd.Context(), q)
			if err != nil {
				return err
			}
			if len(uuids) == 0 {
				fmt.Fprintln(cmd.ErrOrStderr(), "no matching entries found")
				return nil
			}
			fmt.Fprintln(cmd.OutOrStdout(), strings.Join(uuids, "\n"))
			return nil
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&o.rekorURL, "rekor-url", "", "transparency log URL (required)")
	markRequired(fs, "rekor-url", "")
	fs.StringVar(&sha, "sha", "", "the SHA-512, SHA-256 or SHA-1 of the artifact ([sha256:]<hex>)")
	fs.StringVar(&artifact, "artifact", "", "an artifact whose SHA-256 to search for")
	fs.StringVar(&publicKey, "public-key", "", "a public key (file) whose entries to search for")
	fs.StringVar(&pkiFormat, "pki-format", "x509", "format of --public-key: x509, pgp, minisign or ssh")
	fs.StringVar(&q.Email, "email", "", "an email address in the certificates of the entries")
	fs.StringVar(&q.Operator, "operator", "", "how to combine the criteria: and (the log's default) or or")
	fs.SetNormalizeFunc(rekorServerAlias)
	return boundInTime(cmd)
}

// v1GetOutput is what rekor-cli get prints, field for field.
type v1GetOutput struct {
	Attestation     string
	AttestationType string
	Body            any
	LogIndex        int
	IntegratedTime  int64
	UUID            string
	LogID           string
}

// v1BodyFields name the spec in rekor-cli's rendering of a body: its entry types' Go fields.
var v1BodyFields = map[string]string{"hashedrekord": "HashedRekordObj", "rekord": "RekordObj", "dsse": "DSSEObj", "intoto": "IntotoObj"}

// printV1Entry prints a verified entry as rekor-cli get does, in its text or JSON form.
func printV1Entry(w io.Writer, e *logclient.V1Entry, check *tlog.V1EntryCheck, asJSON bool) error {
	var body struct {
		Kind string          `json:"kind"`
		Spec json.RawMessage `json:"spec"`
	}
	if err := json.Unmarshal(check.Body, &body); err != nil {
		return fmt.Errorf("decoding entry body: %w", err)
	}
	out := v1GetOutput{
		Body:     map[string]json.RawMessage{v1BodyFields[body.Kind]: body.Spec},
		LogIndex: int(e.Entry.LogIndex), IntegratedTime: e.Entry.IntegratedTime, UUID: e.UUID, LogID: e.Entry.LogID,
	}
	if asJSON {
		b, err := json.Marshal(out)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintln(w, string(b))
		return err
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out.Body); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "LogID: %s\nIndex: %d\nIntegratedTime: %s\nUUID: %s\nBody: %s\n",
		out.LogID, out.LogIndex, time.Unix(out.IntegratedTime, 0).UTC().Format(time.RFC3339), out.UUID, b.Bytes())
	return err
}

// v1Selector is rekor-cli's way of naming one entry: --uuid or --log-index.
type v1Selector struct {
	uuid     string
	logIndex int64
}

func (s *v1Selector) addFlags(fs *pflag.FlagSet) {
	fs.StringVar(&s.uuid, "uuid", "", "UUID of the entry (Rekor v1 API)")
	fs.Int64Var(&s.logIndex, "log-index", -1, "log index of the entry (Rekor v1 API)")
}

func (s *v1Selector) given() bool { return s.uuid != "" || s.logIndex >= 0 }

// fetch reads the entry the selector names; with neither flag, the entry with that leaf hash.
func (s *v1Selector) fetch(cmd *cobra.Command, c *logclient.V1Client, leafHash []byte) (*logclient.V1Entry, error) {
	switch {
	case s.uuid != "" && s.logIndex >= 0:
		return nil, fmt.Errorf("pass either --uuid or --log-index, not both")
	case s.uuid != "":
		return c.GetByUUID(cmd.Context(), s.uuid)
	case s.logIndex >= 0:
		return c.GetByIndex(cmd.Context(), s.logIndex)
	case leafHash != nil:
		return c.GetByUUID(cmd.Context(), hex.EncodeToString(leafHash))
	}
	return nil, fmt.Errorf("either --uuid or --log-index must be specified")
}

// runLogGetV1 is log get with --uuid or --log-index.
func runLogGetV1(cmd *cobra.Command, o *logClientOptions, s *v1Selector, output string) error {
	c, err := o.v1Client()
	if err != nil {
		return err
	}
	e, err := s.fetch(cmd, c, nil)
	if err != nil {
		return err
	}
	check, err := o.verifyV1(cmd, c, e)
	if err != nil {
		return err
	}
	return printV1Entry(cmd.OutOrStdout(), e, check, output == "json")
}

// runLogVerifyV1 is log verify of an entry of the Rekor v1 API: the signature of the artifact
// (when given), then the log's entry body, its SET and its inclusion proof; an error names the
// step that failed.
func runLogVerifyV1(cmd *cobra.Command, o *logClientOptions, eo *v1EntryOptions, s *v1Selector) error {
	var want *rekortypes.Entry
	if eo.given() {
		proposed, err := eo.proposed()
		if err != nil {
			return err
		}
		if want, err = rekortypes.Canonicalize(proposed, rekortypes.Limits{}); err != nil {
			return fmt.Errorf("signature: %w", err)
		}
	}
	c, err := o.v1Client()
	if err != nil {
		return err
	}
	var leaf []byte
	if want != nil {
		leaf = tlog.LeafHash(want.Body)
	}
	e, err := s.fetch(cmd, c, leaf)
	if err != nil {
		return err
	}
	if want != nil {
		body, err := logclient.DecodeV1Body(&e.Entry)
		if err != nil {
			return fmt.Errorf("entry body: %w", err)
		}
		if !bytes.Equal(body, want.Body) {
			return fmt.Errorf("entry body: entry %s (index %d) is not the entry of this artifact, signature and public key", e.UUID, e.Entry.LogIndex)
		}
	}
	res, err := o.verifyV1(cmd, c, e)
	if err != nil {
		return v1StepError(err)
	}
	w := cmd.OutOrStdout()
	if want != nil {
		fmt.Fprintf(w, "signature: verified\nentry body: matches the artifact, signature and public key\n")
	}
	fmt.Fprintf(w, "entry %s at index %d\nSET: verified (integrated %s)\ninclusion proof: verified in checkpoint of size %d (root %x)\n",
		e.UUID, e.Entry.LogIndex, time.Unix(e.Entry.IntegratedTime, 0).UTC().Format(time.RFC3339), res.Checkpoint.Size, res.Checkpoint.Hash)
	return nil
}

// v1StepError names the step of an entry's check that failed: its SET, or its inclusion proof
// (with its checkpoint).
func v1StepError(err error) error {
	switch {
	case errors.Is(err, tlog.ErrBadSET):
		return fmt.Errorf("SET: %w", err)
	case errors.Is(err, logclient.ErrLogInconsistent):
		return err
	}
	return fmt.Errorf("inclusion proof: %w", err)
}
