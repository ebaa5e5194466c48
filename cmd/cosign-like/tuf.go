package main

import (
	"crypto"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/cosign-like/cosign-like/internal/httpserver"
	"github.com/cosign-like/cosign-like/pkg/signer"
	"github.com/cosign-like/cosign-like/pkg/tuf"
)

func init() { addCommand(newTUFCmd) }

// tufRepoOptions name the repository directory, which every tuf subcommand works on.
type tufRepoOptions struct {
	dir string
}

func (o *tufRepoOptions) addFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.dir, "dir", "", "repository directory (required)")
	markRequired(fs, "dir", "")
}

// tufKeyOptions are the keys a change is signed with that the repository's keys directory does
// not hold, and the PIN of the tokens holding them.
type tufKeyOptions struct {
	refs  []string
	token pkcs11Flags
}

func (o *tufKeyOptions) addFlags(fs *pflag.FlagSet) {
	fs.StringArrayVar(&o.refs, "key", nil,
		"key held outside the repository's keys directory: a cosign key file, pkcs11: URI or KMS URI (repeatable)")
	o.token.addPINFlag(fs, pinFlag)
}

// signers loads the keys named by --key.
func (o *tufKeyOptions) signers(cmd *cobra.Command) ([]crypto.Signer, error) {
	return loadTUFSigners(cmd, o.refs, &o.token)
}

// loadTUFSigners loads the keys refs names, opening tokens with the PIN tok gives.
func loadTUFSigners(cmd *cobra.Command, refs []string, tok *pkcs11Flags) ([]crypto.Signer, error) {
	var out []crypto.Signer
	for _, ref := range refs {
		s, err := signer.LoadSigner(cmd.Context(), ref, keyPasswordFunc(cmd), tok.signerOptions()...)
		if err != nil {
			return nil, fmt.Errorf("loading key %s: %w", ref, err)
		}
		out = append(out, signer.AsCryptoSigner(s))
	}
	return out, nil
}

// tufPublishOptions say whether a staged change is published at once.
type tufPublishOptions struct {
	noPublish bool
}

func (o *tufPublishOptions) addFlags(fs *pflag.FlagSet) {
	fs.BoolVar(&o.noPublish, "no-publish", false, "only stage the change; do not publish")
}

// publish publishes dir unless --no-publish. A repository that still lacks signatures is left
// staged, and the message says what is missing.
func (o *tufPublishOptions) publish(cmd *cobra.Command, dir string) error {
	if o.noPublish {
		fmt.Fprintf(cmd.OutOrStdout(), "staged in %s (not published: --no-publish)\n", dir)
		return nil
	}
	err := tuf.Publish(dir)
	if errors.Is(err, tuf.ErrThreshold) {
		fmt.Fprintf(cmd.OutOrStdout(), "staged in %s, not published yet: %v\n", dir, err)
		return nil
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(cmd.OutOrStdout(), "published %s\n", filepath.Join(dir, "repository"))
	return nil
}

// tufChangeOptions are the flags every subcommand that changes a repository shares: the
// repository, the keys held elsewhere, and whether to publish.
type tufChangeOptions struct {
	repo       tufRepoOptions
	keys       tufKeyOptions
	publishing tufPublishOptions
}

func (o *tufChangeOptions) addFlags(fs *pflag.FlagSet) {
	o.repo.addFlags(fs)
	o.keys.addFlags(fs)
	o.publishing.addFlags(fs)
}

// publish publishes the repository unless --no-publish.
func (o *tufChangeOptions) publish(cmd *cobra.Command) error {
	return o.publishing.publish(cmd, o.repo.dir)
}

// tufRoleOptions name the role a subcommand acts on.
type tufRoleOptions struct {
	role string
}

func (o *tufRoleOptions) addFlags(fs *pflag.FlagSet, usage string) {
	fs.StringVar(&o.role, "role", "", usage+" (required)")
	markRequired(fs, "role", "")
}

func newTUFCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "tuf",
		Short: "Create, sign, rotate and publish the TUF repository of a private deployment",
		Long: `A TUF repository delivers the trusted root and signing config to clients
(cosign-like initialize). These commands keep one in a directory: private keys under keys/
(mode 0600; keep the root keys offline in production), staged metadata under staged/, and the
published static files under repository/, which any static HTTP server can serve
(or: cosign-like tuf serve).`,
		Args: cobra.NoArgs,
	}
	cmd.AddCommand(newTUFInitCmd(), newTUFAddTargetCmd(), newTUFRemoveTargetCmd(), newTUFSignCmd(),
		newTUFRotateCmd(), newTUFTimestampCmd(), newTUFPublishCmd(), newTUFStatusCmd(), newTUFServeCmd())
	return cmd
}

func newTUFInitCmd() *cobra.Command {
	var (
		repo tufRepoOptions
		pub  tufPublishOptions
		tok  pkcs11Flags
	)
	var keyType, thresholds, keyCounts, expiry string
	var roleKeys []string
	cmd := &cobra.Command{
		Use:   "init",
		Short: "Create a repository: keys and version 1 of root, targets, snapshot and timestamp",
		Example: `  cosign-like tuf init --dir tuf-repo
  cosign-like tuf init --dir tuf-repo --threshold root=2 --keys root=3 --expiry timestamp=24h
  cosign-like tuf init --dir tuf-repo --role-key 'targets=pkcs11:token=tuf;object=targets?module-path=...'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts := tuf.RepoOptions{KeyType: keyType, Signers: map[string][]crypto.Signer{}}
			var err error
			if opts.Thresholds, err = parseRoleInts("--threshold", thresholds); err != nil {
				return err
			}
			if opts.KeyCounts, err = parseRoleInts("--keys", keyCounts); err != nil {
				return err
			}
			if opts.Expiry, err = parseRoleDurations("--expiry", expiry); err != nil {
				return err
			}
			for _, rk := range roleKeys {
				role, ref, ok := strings.Cut(rk, "=")
				if !ok || !slices.Contains(tuf.Roles(), role) || ref == "" {
					return fmt.Errorf("--role-key %q: want ROLE=KEYREF with ROLE one of %s", rk, strings.Join(tuf.Roles(), ", "))
				}
				s, err := loadTUFSigners(cmd, []string{ref}, &tok)
				if err != nil {
					return err
				}
				opts.Signers[role] = append(opts.Signers[role], s...)
			}
			if err := tuf.InitRepository(repo.dir, opts); err != nil {
				return fmt.Errorf("tuf init: %w", err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "TUF repository created in %s\n", repo.dir)
			if err := pub.publish(cmd, repo.dir); err != nil {
				return err
			}
			root := filepath.Join(repo.dir, "repository", "1.root.json")
			if data, err := os.ReadFile(root); err == nil {
				fmt.Fprintf(cmd.OutOrStdout(), "initial root for clients: %s (sha256 %x)\n", root, sha256.Sum256(data))
			}
			return nil
		},
	}
	repo.addFlags(cmd.Flags())
	pub.addFlags(cmd.Flags())
	tok.addPINFlag(cmd.Flags(), pinFlag)
	cmd.Flags().StringVar(&keyType, "key-type", tuf.KeyEd25519, "type of generated keys: ed25519 or ecdsa-p256")
	cmd.Flags().StringVar(&thresholds, "threshold", "", "signature thresholds: N for every role, or ROLE=N,... (default 1)")
	cmd.Flags().StringVar(&keyCounts, "keys", "", "keys per role: N for every role, or ROLE=N,... (default: the threshold)")
	cmd.Flags().StringVar(&expiry, "expiry", "", "validity per role: DURATION for every role, or ROLE=DURATION,... (default root=8760h,targets=4320h,snapshot=720h,timestamp=168h)")
	cmd.Flags().StringArrayVar(&roleKeys, "role-key", nil, "ROLE=KEYREF: use a key held elsewhere (cosign key file, pkcs11: URI, KMS URI) for ROLE instead of generating one (repeatable)")
	return boundInTime(cmd)
}

// parseRoleInts parses "N" (every role) or "ROLE=N,..." (or both, the bare number first).
func parseRoleInts(flag, spec string) (map[string]int, error) {
	out := map[string]int{}
	err := parseRoleSpec(flag, spec, func(role, v string) error {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 16 {
			return fmt.Errorf("%s: %q is not a number from 1 to 16", flag, v)
		}
		out[role] = n
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// parseRoleDurations parses "DURATION" (every role) or "ROLE=DURATION,...".
func parseRoleDurations(flag, spec string) (map[string]time.Duration, error) {
	out := map[string]time.Duration{}
	err := parseRoleSpec(flag, spec, func(role, v string) error {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return fmt.Errorf("%s: %q is not a positive duration such as 168h", flag, v)
		}
		out[role] = d
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// parseRoleSpec splits a comma-separated list of VALUE or ROLE=VALUE items and calls set for
// each role it names; a bare VALUE applies to every role.
func parseRoleSpec(flag, spec string, set func(role, value string) error) error {
	if spec == "" {
		return nil
	}
	if len(spec) > 1024 {
		return fmt.Errorf("%s: value too long", flag)
	}
	for _, item := range strings.Split(spec, ",") {
		item = strings.TrimSpace(item)
		role, value, named := strings.Cut(item, "=")
		if !named {
			for _, r := range tuf.Roles() {
				if err := set(r, item); err != nil {
					return err
				}
			}
			continue
		}
		if !slices.Contains(tuf.Roles(), role) {
			return fmt.Errorf("%s: unknown role %q (want %s)", flag, role, strings.Join(tuf.Roles(), ", "))
		}
		if err := set(role, value); err != nil {
			return err
		}
	}
	return nil
}

func newTUFAddTargetCmd() *cobra.Command {
	var o tufChangeOptions
	var name, file string
	cmd := &cobra.Command{
		Use:     "add-target",
		Short:   "Add or replace a target file, signing new targets, snapshot and timestamp versions",
		Example: `  cosign-like tuf add-target --dir tuf-repo --name trusted_root.json --file trusted_root.json`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if name == "" {
				name = filepath.Base(file)
			}
			st, err := os.Stat(file)
			if err != nil {
				return fmt.Errorf("tuf add-target: %w", err)
			}
			if st.Size() > tuf.MaxTargetSize {
				return fmt.Errorf("tuf add-target: %s is %d bytes, more than the %d allowed", file, st.Size(), tuf.MaxTargetSize)
			}
			data, err := os.ReadFile(file)
			if err != nil {
				return fmt.Errorf("tuf add-target: %w", err)
			}
			signers, err := o.keys.signers(cmd)
			if err != nil {
				return err
			}
			if err := tuf.AddTarget(o.repo.dir, name, data, signers...); err != nil {
				return fmt.Errorf("tuf add-target: %w", err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "target %s staged (%d bytes)\n", name, len(data))
			return o.publish(cmd)
		},
	}
	o.addFlags(cmd.Flags())
	cmd.Flags().StringVar(&name, "name", "", "target name (default: the file's base name)")
	cmd.Flags().StringVar(&file, "file", "", "file to add (required)")
	markRequired(cmd.Flags(), "file", "")
	return boundInTime(cmd)
}

func newTUFRemoveTargetCmd() *cobra.Command {
	var o tufChangeOptions
	var name string
	cmd := &cobra.Command{
		Use:   "remove-target",
		Short: "Remove a target, signing new targets, snapshot and timestamp versions",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			signers, err := o.keys.signers(cmd)
			if err != nil {
				return err
			}
			if err := tuf.RemoveTarget(o.repo.dir, name, signers...); err != nil {
				return fmt.Errorf("tuf remove-target: %w", err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "target %s removed\n", name)
			return o.publish(cmd)
		},
	}
	o.addFlags(cmd.Flags())
	cmd.Flags().StringVar(&name, "name", "", "target name (required)")
	markRequired(cmd.Flags(), "name", "")
	return boundInTime(cmd)
}

func newTUFSignCmd() *cobra.Command {
	var o tufChangeOptions
	var r tufRoleOptions
	var bump bool
	cmd := &cobra.Command{
		Use:   "sign",
		Short: "Sign a role's staged metadata with the available keys (to reach a threshold, or re-sign)",
		Example: `  cosign-like tuf sign --dir tuf-repo --role root --key 'pkcs11:token=offline;object=root2'
  cosign-like tuf sign --dir tuf-repo --role targets --bump`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			signers, err := o.keys.signers(cmd)
			if err != nil {
				return err
			}
			if err := tuf.Sign(o.repo.dir, r.role, tuf.SignOptions{Signers: signers, Bump: bump}); err != nil {
				return fmt.Errorf("tuf sign: %w", err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s signed\n", r.role)
			return o.publish(cmd)
		},
	}
	o.addFlags(cmd.Flags())
	r.addFlags(cmd.Flags(), "role to sign: root, targets, snapshot or timestamp")
	cmd.Flags().BoolVar(&bump, "bump", false, "start a new version with a fresh expiry before signing")
	return boundInTime(cmd)
}

func newTUFRotateCmd() *cobra.Command {
	var o tufChangeOptions
	var r tufRoleOptions
	var newKeys []string
	var keys, threshold int
	cmd := &cobra.Command{
		Use:   "rotate",
		Short: "Replace a role's keys in a new root version signed by the old and the new root keys",
		Example: `  cosign-like tuf rotate --dir tuf-repo --role targets
  cosign-like tuf rotate --dir tuf-repo --role root --keys 3 --threshold 2`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			signers, err := o.keys.signers(cmd)
			if err != nil {
				return err
			}
			fresh, err := loadTUFSigners(cmd, newKeys, &o.keys.token)
			if err != nil {
				return err
			}
			err = tuf.Rotate(o.repo.dir, r.role, tuf.RotateOptions{NewSigners: fresh, Keys: keys, Threshold: threshold, Signers: signers})
			if err != nil {
				return fmt.Errorf("tuf rotate: %w", err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s keys rotated\n", r.role)
			return o.publish(cmd)
		},
	}
	o.addFlags(cmd.Flags())
	r.addFlags(cmd.Flags(), "role whose keys to replace")
	cmd.Flags().StringArrayVar(&newKeys, "new-key", nil, "new key held elsewhere (cosign key file, pkcs11: URI, KMS URI) instead of generated ones (repeatable)")
	cmd.Flags().IntVar(&keys, "keys", 0, "number of keys to generate (default: as many as the role has)")
	cmd.Flags().IntVar(&threshold, "threshold", 0, "the role's new threshold (default: unchanged)")
	return boundInTime(cmd)
}

func newTUFTimestampCmd() *cobra.Command {
	var o tufChangeOptions
	var expiry time.Duration
	cmd := &cobra.Command{
		Use:   "timestamp",
		Short: "Sign a fresh timestamp (run it regularly, well before the timestamp expires)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			signers, err := o.keys.signers(cmd)
			if err != nil {
				return err
			}
			if err := tuf.RefreshTimestamp(o.repo.dir, expiry, signers...); err != nil {
				return fmt.Errorf("tuf timestamp: %w", err)
			}
			fmt.Fprintln(cmd.OutOrStdout(), "timestamp refreshed")
			return o.publish(cmd)
		},
	}
	o.addFlags(cmd.Flags())
	cmd.Flags().DurationVar(&expiry, "expiry", 0, "validity of the new timestamp (default: the repository's setting)")
	return boundInTime(cmd)
}

func newTUFPublishCmd() *cobra.Command {
	var o tufRepoOptions
	cmd := &cobra.Command{
		Use:   "publish",
		Short: "Check the staged metadata as a client would and write the static files under repository/",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := tuf.Publish(o.dir); err != nil {
				return fmt.Errorf("tuf publish: %w", err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "published %s\n", filepath.Join(o.dir, "repository"))
			return nil
		},
	}
	o.addFlags(cmd.Flags())
	return cmd
}

func newTUFStatusCmd() *cobra.Command {
	var o tufRepoOptions
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show each role's version, expiry, keys and signatures, and the targets",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, err := tuf.Describe(o.dir)
			if err != nil {
				return fmt.Errorf("tuf status: %w", err)
			}
			w := cmd.OutOrStdout()
			for _, r := range st.Roles {
				fmt.Fprintf(w, "%-9s version %d, expires %s, signatures %d of %d needed",
					r.Role, r.Version, r.Expires.UTC().Format(time.RFC3339), r.Valid, r.Threshold)
				if r.PreviousRootThreshold > 0 {
					fmt.Fprintf(w, " (previous root: %d of %d)", r.PreviousRootValid, r.PreviousRootThreshold)
				}
				fmt.Fprintln(w)
				for i, id := range r.KeyIDs {
					where := "held elsewhere"
					if r.Local[i] {
						where = "in keys/"
					}
					fmt.Fprintf(w, "  key %s (%s)\n", id, where)
				}
			}
			for _, t := range st.Targets {
				fmt.Fprintf(w, "target %s: %d bytes, sha256 %s\n", t.Name, t.Length, t.SHA256)
			}
			return nil
		},
	}
	o.addFlags(cmd.Flags())
	return cmd
}

func newTUFServeCmd() *cobra.Command {
	var o tufRepoOptions
	var addr string
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve the published repository over HTTP (any static file server works as well)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			logger, err := newServerLogger(cmd, httpserver.TextFormat, "info")
			if err != nil {
				return err
			}
			s, err := tuf.OpenServer(cmd.Context(), o.dir, tuf.ServerOptions{Logger: logger})
			if errors.Is(err, tuf.ErrNotPublished) {
				return fmt.Errorf("tuf serve: nothing published in %s: run tuf publish", o.dir)
			}
			if err != nil {
				return fmt.Errorf("tuf serve: %w", err)
			}
			return runServers(cmd, httpserver.RunOptions{Logger: logger}, httpserver.Service{Name: "TUF repository", Addr: addr, Server: s})
		},
	}
	o.addFlags(cmd.Flags())
	cmd.Flags().StringVar(&addr, "addr", "127.0.0.1:8088", "address to listen on")
	return cmd
}
