package devstack

import (
	"context"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"time"

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

// startKeyless initialises fresh state for the CA, CT log, transparency log and TSA under
// dir/state, starts them and the OIDC dev issuer, and writes the trusted root and signing
// config.
func (s *Stack) startKeyless(ctx context.Context) error {
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
	oidcLn, ctLn, caLn, logLn, tsaLn, tufLn := lns[0], lns[1], lns[2], lns[3], lns[4], lns[5]
	s.TUFMirror = "http://" + tufLn.Addr().String()
	s.OIDCURL = "http://" + oidcLn.Addr().String()
	s.CTURL = "http://" + ctLn.Addr().String()
	s.CAURL = "http://" + caLn.Addr().String()
	s.LogURL = "http://" + logLn.Addr().String()
	s.TSAURL = "http://" + tsaLn.Addr().String() + tsaPath

	issuer, err := oidc.NewDevIssuer(ctx, oidc.DevIssuerOptions{URL: s.OIDCURL, Logger: cfg.Logger})
	if err != nil {
		return fmt.Errorf("dev stack OIDC issuer: %w", err)
	}
	s.Issuer = issuer
	s.serveOn("oidc", oidcLn, issuer.Handler())

	caDir := filepath.Join(state, "ca")
	if err := ca.Init(ctx, caDir, ca.InitOptions{URL: s.CAURL, Organization: "cosign-like dev"}); err != nil {
		return fmt.Errorf("dev stack CA: %w", err)
	}
	caChain, err := pki.ReadCertificates(filepath.Join(caDir, ca.ChainFile))
	if err != nil {
		return fmt.Errorf("dev stack CA: %w", err)
	}
	rootPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caChain[len(caChain)-1].Raw})

	ctDir := filepath.Join(state, "ct")
	if err := ctlog.Init(ctx, ctDir, ctlog.InitOptions{URL: s.CTURL, RootsPEM: rootPEM}); err != nil {
		return fmt.Errorf("dev stack CT log: %w", err)
	}
	ct, err := ctlog.Open(ctx, ctDir, ctlog.Options{Logger: cfg.Logger, BatchMaxAge: ctBatchMaxAge})
	if err != nil {
		return fmt.Errorf("dev stack CT log: %w", err)
	}
	s.closers = append(s.closers, ct.Close)
	s.serveOn("ct", ctLn, ct.Handler())

	authority, err := ca.Open(ctx, caDir, ca.Options{Issuers: []ca.IssuerConfig{{URL: s.OIDCURL, Type: ca.IssuerEmail}},
		CTURL: s.CTURL, CTPublicKey: ct.PublicKey(), Logger: cfg.Logger})
	if err != nil {
		return fmt.Errorf("dev stack CA: %w", err)
	}
	s.serveOn("ca", caLn, authority.Handler())

	logDir := filepath.Join(state, "log")
	if _, err := logserver.Init(logDir, s.LogURL, time.Now().Add(-time.Minute)); err != nil {
		return fmt.Errorf("dev stack log: %w", err)
	}
	logSrv, err := logserver.NewServer(ctx, logserver.ServerConfig{Dir: logDir, Logger: cfg.Logger})
	if err != nil {
		return fmt.Errorf("dev stack log: %w", err)
	}
	s.closers = append(s.closers, logSrv.Close)
	s.serveOn("log", logLn, logSrv.Handler())

	tsaDir := filepath.Join(state, "tsa")
	if err := tsa.Init(ctx, tsaDir, tsa.InitOptions{URL: s.TSAURL, Organization: "cosign-like dev"}); err != nil {
		return fmt.Errorf("dev stack TSA: %w", err)
	}
	authorityTSA, err := tsa.Open(ctx, tsaDir, tsa.Options{Logger: cfg.Logger})
	if err != nil {
		return fmt.Errorf("dev stack TSA: %w", err)
	}
	s.serveOn("tsa", tsaLn, authorityTSA.Handler())

	var parts [][]byte
	for _, p := range []string{caDir, ctDir, logDir, tsaDir} {
		data, err := os.ReadFile(filepath.Join(p, "trusted_root.json"))
		if err != nil {
			return err
		}
		parts = append(parts, data)
	}
	trBytes, err := root.MergeTrustedRoots(parts...)
	if err != nil {
		return fmt.Errorf("dev stack trusted root: %w", err)
	}
	s.TrustedRootPath = filepath.Join(cfg.Dir, "trusted_root.json")
	if err := os.WriteFile(s.TrustedRootPath, trBytes, 0o644); err != nil {
		return err
	}
	sc, err := root.NewSigningConfig(root.SigningConfigOptions{
		CAURLs: []string{s.CAURL}, OIDCURLs: []string{s.OIDCURL}, RekorURLs: []string{s.LogURL}, TSAURLs: []string{s.TSAURL},
	})
	if err != nil {
		return err
	}
	s.SigningConfigPath = filepath.Join(cfg.Dir, "signing_config.json")
	if err := os.WriteFile(s.SigningConfigPath, sc, 0o644); err != nil {
		return err
	}

	// The TUF repository serves both files, so that clients can `initialize` against it.
	tufDir := filepath.Join(state, "tuf")
	rootJSON, err := tuf.NewDevRepository(tufDir, map[string][]byte{
		tuf.TrustedRootTarget:   trBytes,
		tuf.SigningConfigTarget: sc,
	}, tufExpiry)
	if err != nil {
		return fmt.Errorf("dev stack TUF repository: %w", err)
	}
	s.TUFRootPath = filepath.Join(cfg.Dir, "tuf_root.json")
	if err := os.WriteFile(s.TUFRootPath, rootJSON, 0o644); err != nil {
		return err
	}
	s.serveOn("tuf", tufLn, tuf.NewFileServer(tufDir))
	return nil
}

// ctBatchMaxAge is how long a certificate waits for the CT log to sequence it: short, since a
// person or a pipeline waits for every certificate.
const ctBatchMaxAge = 15 * time.Millisecond

// tufExpiry is how long the dev stack's TUF metadata stays valid.
const tufExpiry = 7 * 24 * time.Hour
