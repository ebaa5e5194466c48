package devstack

import (
	"context"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
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
)

// tsaPath is where the TSA answers timestamp requests.
const tsaPath = "/api/v1/timestamp"

// keylessServers are the servers startKeyless runs, in the order their Stack URLs are listed
// and they are built: the CT log accepts chains to the CA's root, the CA checks its SCTs under
// the CT log's key, the TUF repository publishes what the others wrote. Each has the limits of
// its standalone server (the log its own, as log serve has them).
var keylessServers = []struct {
	name     string
	open     func(s *Stack, ctx context.Context, state string) (httpserver.Server, error)
	timeouts httpserver.Timeouts
}{
	{"oidc", (*Stack).openOIDC, httpserver.Timeouts{}},
	{"ct", (*Stack).openCT, httpserver.Timeouts{}},
	{"ca", (*Stack).openCA, httpserver.Timeouts{}},
	{"log", (*Stack).openLog, httpserver.TransparencyLogTimeouts()},
	{"tsa", (*Stack).openTSA, httpserver.Timeouts{}},
	{"tuf", (*Stack).openTUF, httpserver.Timeouts{}},
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
	lns, err := listenAll(ctx, cfg.OIDCAddr, cfg.CTAddr, cfg.CAAddr, cfg.LogAddr, cfg.TSAAddr, cfg.TUFAddr)
	if err != nil {
		return err
	}
	svcs := make([]httpserver.Service, len(keylessServers))
	for i, ks := range keylessServers {
		svcs[i] = s.service(ks.name, lns[i], ks.timeouts)
	}
	defer func() {
		if err != nil {
			_ = httpserver.CloseAll(context.WithoutCancel(ctx), svcs)
		}
	}()
	url := func(i int) string { return "http://" + lns[i].Addr().String() }
	s.OIDCURL, s.CTURL, s.CAURL, s.LogURL, s.TSAURL, s.TUFMirror = url(0), url(1), url(2), url(3), url(4)+tsaPath, url(5)
	for i, ks := range keylessServers {
		if svcs[i].Server, err = ks.open(s, ctx, state); err != nil {
			return err
		}
	}
	err = s.start(ctx, svcs...)
	svcs = nil // Start owns them now: it has closed them if it failed
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

// openCT creates the CA's state (its root is the only one the CT log accepts) and the CT log's,
// and opens the log.
func (s *Stack) openCT(ctx context.Context, state string) (httpserver.Server, error) {
	caDir, dir := filepath.Join(state, "ca"), filepath.Join(state, "ct")
	if err := ca.Init(ctx, caDir, ca.InitOptions{URL: s.CAURL, Organization: "cosign-like dev"}); err != nil {
		return nil, fmt.Errorf("dev stack CA: %w", err)
	}
	chain, err := pki.ReadCertificates(filepath.Join(caDir, ca.ChainFile))
	if err != nil {
		return nil, fmt.Errorf("dev stack CA: %w", err)
	}
	rootPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: chain[len(chain)-1].Raw})
	if err := ctlog.Init(ctx, dir, ctlog.InitOptions{URL: s.CTURL, RootsPEM: rootPEM}); err != nil {
		return nil, fmt.Errorf("dev stack CT log: %w", err)
	}
	ct, err := ctlog.Open(ctx, dir, ctlog.Options{Logger: s.cfg.Logger, BatchMaxAge: ctBatchMaxAge})
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

func (s *Stack) openLog(ctx context.Context, state string) (httpserver.Server, error) {
	dir := filepath.Join(state, "log")
	if err := logserver.Init(ctx, dir, logserver.InitOptions{URL: s.LogURL, Start: time.Now().Add(-time.Minute)}); err != nil {
		return nil, fmt.Errorf("dev stack log: %w", err)
	}
	logSrv, err := logserver.Open(ctx, dir, logserver.Options{Logger: s.cfg.Logger})
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
		CAURLs: []string{s.CAURL}, OIDCURLs: []string{s.OIDCURL}, RekorURLs: []string{s.LogURL}, TSAURLs: []string{s.TSAURL},
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

// ctBatchMaxAge is how long a certificate waits for the CT log to sequence it: short, since a
// person or a pipeline waits for every certificate.
const ctBatchMaxAge = 15 * time.Millisecond

// tufExpiry is how long the dev stack's TUF metadata stays valid.
const tufExpiry = 7 * 24 * time.Hour
