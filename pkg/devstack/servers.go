package devstack

import (
	"context"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/cosign-like/cosign-like/internal/httpserver"
	"github.com/cosign-like/cosign-like/pkg/ca"
	"github.com/cosign-like/cosign-like/pkg/ca/ctlog"
	"github.com/cosign-like/cosign-like/pkg/ca/pki"
	"github.com/cosign-like/cosign-like/pkg/oidc"
	"github.com/cosign-like/cosign-like/pkg/root"
	"github.com/cosign-like/cosign-like/pkg/tlog/logserver"
	"github.com/cosign-like/cosign-like/pkg/tsa"
	"github.com/cosign-like/cosign-like/pkg/tuf"
	"github.com/cosign-like/cosign-like/pkg/witness"
)

// tsaPath is where the TSA answers timestamp requests.
const tsaPath = "/api/v1/timestamp"

// keylessServers are the servers startKeyless runs, in the order their Stack URLs are listed
// and they are built: the witness follows the CT log and the log (whose states it creates: the
// CT log's accepts chains to the CA's root) and both submit their checkpoints to it, the CA
// checks its SCTs under the CT log's key, the TUF repository publishes what the others wrote.
// Each has the limits of its standalone server (the log its own, as log serve has them).
// A server marked serveFirst is served (with those opened before it) as soon as it is opened:
// the logs' storages submit their first checkpoints to the witness while they open.
var keylessServers = []struct {
	name       string
	open       func(s *Stack, ctx context.Context, state string) (httpserver.Server, error)
	timeouts   httpserver.Timeouts
	serveFirst bool
}{
	{"oidc", (*Stack).openOIDC, httpserver.Timeouts{}, false},
	{"witness", (*Stack).openWitness, httpserver.Timeouts{}, true},
	{"ct", (*Stack).openCT, httpserver.Timeouts{}, false},
	{"ca", (*Stack).openCA, httpserver.Timeouts{}, false},
	{"log", (*Stack).openLog, httpserver.TransparencyLogTimeouts(), false},
	{"tsa", (*Stack).openTSA, httpserver.Timeouts{}, false},
	{"tuf", (*Stack).openTUF, httpserver.Timeouts{}, false},
}

// startKeyless initialises fresh state for the CA, CT log, transparency log and TSA under
// dir/state, writes the trusted root, signing config and TUF repository, and serves them with
// the OIDC dev issuer.
func (s *Stack) startKeyless(ctx context.Context) (err error) {
	cfg := s.cfg
	state := filepath.Join(cfg.Dir, "state")
	// The stack's keys last as long as the stack: its registry forgets manifests anyway.
	if err := os.RemoveAll(state); err != nil {
		return err
	}
	lns, err := listenAll(ctx, cfg.OIDCAddr, cfg.WitnessAddr, cfg.CTAddr, cfg.CAAddr, cfg.LogAddr, cfg.TSAAddr, cfg.TUFAddr)
	if err != nil {
		return err
	}
	svcs := make([]httpserver.Service, len(keylessServers))
	for i, ks := range keylessServers {
		svcs[i] = s.service(ks.name, lns[i], ks.timeouts)
	}
	from := 0 // svcs[from:] are not served yet; Close stops those that are
	defer func() {
		if err != nil {
			_ = httpserver.CloseAll(context.WithoutCancel(ctx), svcs[from:])
		}
	}()
	url := func(i int) string { return "http://" + lns[i].Addr().String() }
	s.OIDCURL, s.WitnessURL, s.CTURL, s.CAURL, s.LogURL, s.TSAURL, s.TUFMirror = url(0), url(1), url(2), url(3), url(4), url(5)+tsaPath, url(6)
	for i, ks := range keylessServers {
		if svcs[i].Server, err = ks.open(s, ctx, state); err != nil {
			return err
		}
		if ks.serveFirst {
			err = s.start(ctx, svcs[from:i+1]...)
			from = i + 1 // start owns them now: it has closed them if it failed
			if err != nil {
				return err
			}
		}
	}
	err = s.start(ctx, svcs[from:]...)
	from = len(svcs)
	return err
}

func (s *Stack) openOIDC(ctx context.Context, _ string) (httpserver.Server, error) {
	issuer, err := oidc.NewDevIssuer(ctx, oidc.DevIssuerOptions{URL: s.OIDCURL, Logger: s.cfg.Logger})
	if err != nil {
		return nil, fmt.Errorf("dev stack OIDC issuer: %w", err)
	}
	s.Issuer = issuer
	return issuer, nil
}

// initCT creates the CA's state (its root is the only one the CT log accepts) and the CT log's,
// and returns the CT log's checkpoint verifier key.
func (s *Stack) initCT(ctx context.Context, state string) (string, error) {
	caDir, dir := filepath.Join(state, "ca"), filepath.Join(state, "ct")
	if err := ca.Init(ctx, caDir, ca.InitOptions{URL: s.CAURL, Organization: "cosign-like dev"}); err != nil {
		return "", fmt.Errorf("dev stack CA: %w", err)
	}
	chain, err := pki.ReadCertificates(filepath.Join(caDir, ca.ChainFile))
	if err != nil {
		return "", fmt.Errorf("dev stack CA: %w", err)
	}
	rootPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: chain[len(chain)-1].Raw})
	if err := ctlog.Init(ctx, dir, ctlog.InitOptions{URL: s.CTURL, RootsPEM: rootPEM}); err != nil {
		return "", fmt.Errorf("dev stack CT log: %w", err)
	}
	vkey, err := os.ReadFile(filepath.Join(dir, ctlog.VerifierKeyFile))
	if err != nil {
		return "", fmt.Errorf("dev stack CT log: %w", err)
	}
	return strings.TrimSpace(string(vkey)), nil
}

// openCT opens the CT log openWitness created, submitting its checkpoints to the witness.
func (s *Stack) openCT(ctx context.Context, state string) (httpserver.Server, error) {
	policy, err := os.ReadFile(s.WitnessPolicyPath)
	if err != nil {
		return nil, err
	}
	ct, err := ctlog.Open(ctx, filepath.Join(state, "ct"), ctlog.Options{Logger: s.cfg.Logger, BatchMaxAge: ctBatchMaxAge, WitnessPolicy: policy})
	if err != nil {
		return nil, fmt.Errorf("dev stack CT log: %w", err)
	}
	return ct, nil
}

// openCA opens the CA openCT created, trusting the dev issuer and checking every SCT under the
// CT log's key (as ca serve does with --ct-public-key).
func (s *Stack) openCA(ctx context.Context, state string) (httpserver.Server, error) {
	ctKey, err := os.ReadFile(filepath.Join(state, "ct", ctlog.PublicKeyFile))
	if err != nil {
		return nil, fmt.Errorf("dev stack CA: %w", err)
	}
	opts := ca.Options{Issuers: []ca.IssuerConfig{{URL: s.OIDCURL, Type: ca.IssuerEmail}}, CTURL: s.CTURL, Logger: s.cfg.Logger}
	if opts.CTPublicKey, err = ca.ParsePublicKeyPEM(ctKey); err != nil {
		return nil, fmt.Errorf("dev stack CA: CT log key: %w", err)
	}
	authority, err := ca.Open(ctx, filepath.Join(state, "ca"), opts)
	if err != nil {
		return nil, fmt.Errorf("dev stack CA: %w", err)
	}
	return authority, nil
}

// witnessName is the key name of the stack's witness.
const witnessName = "witness.cosign-like.dev/w1"

// openWitness creates the CT log's and the transparency log's states (the witness follows their
// keys) and the witness's, writes the policy requiring that witness beside the trusted root, and
// opens the witness.
func (s *Stack) openWitness(ctx context.Context, state string) (httpserver.Server, error) {
	ctKey, err := s.initCT(ctx, state)
	if err != nil {
		return nil, err
	}
	logDir, dir := filepath.Join(state, "log"), filepath.Join(state, "witness")
	if err := logserver.Init(ctx, logDir, logserver.InitOptions{URL: s.LogURL, Start: time.Now().Add(-time.Minute)}); err != nil {
		return nil, fmt.Errorf("dev stack log: %w", err)
	}
	logKey, err := logserver.LoadLogKey(logDir)
	if err != nil {
		return nil, fmt.Errorf("dev stack log: %w", err)
	}
	vkey, err := logKey.VerifierKey()
	if err != nil {
		return nil, fmt.Errorf("dev stack log: %w", err)
	}
	logs := []witness.LogConfig{{Origin: logKey.Origin, VerifierKey: vkey.String()}, {VerifierKey: ctKey}}
	if err := witness.Init(ctx, dir, witness.InitOptions{Name: witnessName, Logs: logs}); err != nil {
		return nil, fmt.Errorf("dev stack witness: %w", err)
	}
	signer, err := witness.LoadSigner(dir)
	if err != nil {
		return nil, fmt.Errorf("dev stack witness: %w", err)
	}
	// Tessera's form: the witness's URL on its line.
	policy := fmt.Sprintf("# The dev stack's witness: checkpoints of its logs must carry its cosignature.\n"+
		"log %s %s\nlog %s %s\nwitness w1 %s %s\nquorum w1\n", vkey, s.LogURL, ctKey, s.CTURL, signer.Verifier().VerifierKey(), s.WitnessURL)
	s.WitnessPolicyPath = filepath.Join(s.cfg.Dir, "witness_policy.txt")
	if err := os.WriteFile(s.WitnessPolicyPath, []byte(policy), 0o644); err != nil {
		return nil, err
	}
	w, err := witness.Open(ctx, dir, witness.Options{Logger: s.cfg.Logger})
	if err != nil {
		return nil, fmt.Errorf("dev stack witness: %w", err)
	}
	return w, nil
}

// openLog opens the log openWitness created, submitting its checkpoints to the witness.
func (s *Stack) openLog(ctx context.Context, state string) (httpserver.Server, error) {
	dir := filepath.Join(state, "log")
	policy, err := os.ReadFile(s.WitnessPolicyPath)
	if err != nil {
		return nil, err
	}
	logSrv, err := logserver.Open(ctx, dir, logserver.Options{
		Logger: s.cfg.Logger, WitnessPolicy: policy, CheckpointInterval: logCheckpointInterval,
	})
	if err != nil {
		return nil, fmt.Errorf("dev stack log: %w", err)
	}
	return logSrv, nil
}

func (s *Stack) openTSA(ctx context.Context, state string) (httpserver.Server, error) {
	dir := filepath.Join(state, "tsa")
	if err := tsa.Init(ctx, dir, tsa.InitOptions{URL: s.TSAURL, Organization: "cosign-like dev"}); err != nil {
		return nil, fmt.Errorf("dev stack TSA: %w", err)
	}
	timestamps, err := tsa.Open(ctx, dir, tsa.Options{Logger: s.cfg.Logger})
	if err != nil {
		return nil, fmt.Errorf("dev stack TSA: %w", err)
	}
	return timestamps, nil
}

// openTUF merges the trusted-root parts the CA, CT log, log and TSA wrote into the trusted
// root, writes it and the signing config beside the state, publishes both in the TUF
// repository under state/tuf, and opens its server.
func (s *Stack) openTUF(ctx context.Context, state string) (httpserver.Server, error) {
	var parts [][]byte
	for _, name := range []string{"ca", "ct", "log", "tsa"} {
		data, err := os.ReadFile(filepath.Join(state, name, "trusted_root.json"))
		if err != nil {
			return nil, err
		}
		parts = append(parts, data)
	}
	trBytes, err := root.MergeTrustedRoots(parts...)
	if err != nil {
		return nil, fmt.Errorf("dev stack trusted root: %w", err)
	}
	s.TrustedRootPath = filepath.Join(s.cfg.Dir, "trusted_root.json")
	if err := os.WriteFile(s.TrustedRootPath, trBytes, 0o644); err != nil {
		return nil, err
	}
	sc, err := root.NewSigningConfig(root.SigningConfigOptions{
		CAURLs: []string{s.CAURL}, OIDCURLs: []string{s.OIDCURL}, RekorURLs: []string{s.LogURL}, RekorV1URLs: []string{s.LogURL}, TSAURLs: []string{s.TSAURL},
	})
	if err != nil {
		return nil, err
	}
	s.SigningConfigPath = filepath.Join(s.cfg.Dir, "signing_config.json")
	if err := os.WriteFile(s.SigningConfigPath, sc, 0o644); err != nil {
		return nil, err
	}
	// The TUF repository serves both files, so that clients can `initialize` against it.
	dir := filepath.Join(state, "tuf")
	rootJSON, err := tuf.NewDevRepository(dir, map[string][]byte{
		tuf.TrustedRootTarget:   trBytes,
		tuf.SigningConfigTarget: sc,
	}, tufExpiry)
	if err != nil {
		return nil, fmt.Errorf("dev stack TUF repository: %w", err)
	}
	s.TUFRootPath = filepath.Join(s.cfg.Dir, "tuf_root.json")
	if err := os.WriteFile(s.TUFRootPath, rootJSON, 0o644); err != nil {
		return nil, err
	}
	repo, err := tuf.OpenServer(ctx, dir, tuf.ServerOptions{Logger: s.cfg.Logger})
	if err != nil {
		return nil, fmt.Errorf("dev stack TUF repository: %w", err)
	}
	return repo, nil
}

// logCheckpointInterval is how often the log publishes a checkpoint to be witnessed: an entry's
// answer waits for the next one.
const logCheckpointInterval = 100 * time.Millisecond

// ctBatchMaxAge is how long a certificate waits for the CT log to sequence it: short, since a
// person or a pipeline waits for every certificate.
const ctBatchMaxAge = 15 * time.Millisecond

// tufExpiry is how long the dev stack's TUF metadata stays valid.
const tufExpiry = 7 * 24 * time.Hour
