package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/spf13/pflag"

	"github.com/cosign-like/cosign-like/internal/limitio"
	"github.com/cosign-like/cosign-like/pkg/oci"
	"github.com/cosign-like/cosign-like/pkg/tlog"
)

// maxLayers is the most layers a signature or attestation manifest may declare.
const maxLayers = 1000

// registryOptions are the flags that say how to reach a registry.
type registryOptions struct {
	allowInsecure bool
	allowHTTP     bool
	username      string
	password      string
	referrersMode string
	maxBlobSize   int64
	maxArtifacts  int
}

func (o *registryOptions) addFlags(fs *pflag.FlagSet) {
	fs.BoolVar(&o.allowInsecure, "allow-insecure-registry", false, "allow registries whose TLS certificate does not verify")
	fs.BoolVar(&o.allowHTTP, "allow-http-registry", false, "allow registries reached over plain HTTP")
	fs.StringVar(&o.username, "registry-username", "", "registry user name (default: Docker config and credential helpers)")
	fs.StringVar(&o.password, "registry-password", "", "registry password or token")
	fs.StringVar(&o.referrersMode, "registry-referrers-mode", "auto", "how to attach and find bundles: auto (probe), oci-1-1 (referrers API) or legacy (referrers tag schema)")
	fs.Int64Var(&o.maxBlobSize, "max-blob-size", 128<<20, "largest signature or attestation blob fetched, in bytes")
	fs.IntVar(&o.maxArtifacts, "max-signatures", 100, "most signatures or attestations considered per image")
}

// ociOptions turns the flags into pkg/oci options.
func (o *registryOptions) ociOptions() ([]oci.Option, error) {
	var mode oci.ReferrersMode
	switch o.referrersMode {
	case "auto", "":
		mode = oci.ReferrersAuto
	case "oci-1-1":
		mode = oci.ReferrersOCI11
	case "legacy":
		mode = oci.ReferrersLegacy
	default:
		return nil, fmt.Errorf("--registry-referrers-mode %q: want auto, oci-1-1 or legacy", o.referrersMode)
	}
	if (o.username == "") != (o.password == "") {
		return nil, fmt.Errorf("--registry-username and --registry-password must be given together")
	}
	opts := []oci.Option{
		oci.WithAuthCache(oci.NewAuthCache()),
		oci.WithInsecure(o.allowInsecure),
		oci.WithPlainHTTP(o.allowHTTP),
		oci.WithReferrersMode(mode),
		oci.WithLimits(oci.Limits{MaxArtifacts: o.maxArtifacts, MaxLayers: maxLayers, MaxBlobSize: o.maxBlobSize}),
	}
	if o.username != "" {
		opts = append(opts, oci.WithBasicAuth(o.username, o.password))
	}
	return opts, nil
}

// tlogOptions are the transparency log flags shared by signing and verifying commands.
type tlogOptions struct {
	upload       bool
	rekorURL     string
	rekorVersion uint32
	ignoreTlog   bool
	tlogRequired bool
}

func (o *tlogOptions) addSignFlags(fs *pflag.FlagSet) {
	fs.BoolVar(&o.upload, "tlog-upload", true, "upload the signature to the transparency log")
	fs.StringVar(&o.rekorURL, "rekor-url", "", "transparency log URL (default: from the signing config)")
	fs.Uint32Var(&o.rekorVersion, "rekor-api-version", 0, "major API version of --rekor-url's log: 1 (Rekor v1 API) or 2 (default: the signing config's for that URL, else 2)")
}

func (o *tlogOptions) addVerifyFlags(fs *pflag.FlagSet) {
	fs.BoolVar(&o.ignoreTlog, "insecure-ignore-tlog", false, "UNSAFE: accept signatures that have no verified transparency log entry")
	fs.StringVar(&o.rekorURL, "rekor-url", "", "transparency log URL, for the online consistency check")
}

// annotationOptions are the repeatable -a key=value flags.
type annotationOptions struct {
	raw []string
}

func (o *annotationOptions) addFlags(fs *pflag.FlagSet, usage string) {
	fs.StringArrayVarP(&o.raw, "annotations", "a", nil, usage)
}

func (o *annotationOptions) parse() (map[string]string, error) {
	if len(o.raw) == 0 {
		return nil, nil
	}
	m := make(map[string]string, len(o.raw))
	for _, kv := range o.raw {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("annotation %q: want key=value", kv)
		}
		m[k] = v
	}
	return m, nil
}

// envDefault returns the value of the environment variable name, or def when it is unset.
func envDefault(name, def string) string {
	if v, ok := os.LookupEnv(name); ok {
		return v
	}
	return def
}

// trustOptions say where the trusted root and signing config come from.
type trustOptions struct {
	trustedRoot string
	offline     bool
}

func (o *trustOptions) addFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.trustedRoot, "trusted-root", envDefault("COSIGN_LIKE_TRUSTED_ROOT", ""), "trusted root JSON (default $COSIGN_LIKE_TRUSTED_ROOT, then the TUF cache filled by initialize)")
}

func (o *trustOptions) addOfflineFlag(fs *pflag.FlagSet) {
	fs.BoolVar(&o.offline, "offline", false, "never use the network for trust material or log consistency (the TUF cache must be fresh)")
}

// keyOptions name the key to sign or verify with.
type keyOptions struct {
	key string
}

func (o *keyOptions) addSignFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.key, "key", "", "private key: a cosign.key file, pkcs11: URI or KMS URI")
}

func (o *keyOptions) addVerifyFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.key, "key", "", "public key: a PEM file, certificate, pkcs11: URI or KMS URI")
}

// witnessOptions name the witness policy a verifying command requires of log checkpoints.
type witnessOptions struct {
	policy string
}

func (o *witnessOptions) addFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.policy, "witness-policy", envDefault("COSIGN_LIKE_WITNESS_POLICY", ""), "C2SP tlog-policy file: accept log entries only under checkpoints its quorum of witnesses cosigned (default $COSIGN_LIKE_WITNESS_POLICY)")
}

// load returns the policy, nil when none is given.
func (o *witnessOptions) load() (*tlog.WitnessPolicy, error) {
	if o.policy == "" {
		return nil, nil
	}
	raw, err := limitio.ReadFile(o.policy, tlog.MaxPolicySize)
	if err != nil {
		return nil, fmt.Errorf("reading witness policy: %w", err)
	}
	p, err := tlog.ParseWitnessPolicy(raw)
	if err != nil {
		return nil, fmt.Errorf("witness policy %s: %w", o.policy, err)
	}
	return p, nil
}
