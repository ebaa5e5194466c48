package logclient

import (
	"bytes"
	"context"
	"crypto/x509"
	"fmt"
	"time"

	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/rfc6962"
	"github.com/transparency-dev/tessera/api/layout"
	"github.com/transparency-dev/tessera/client"

	"github.com/cosign-like/cosign-like/pkg/certext"
	"github.com/cosign-like/cosign-like/pkg/tlog"
)

// MonitorQuery selects the entries a monitor reports: those whose certificate names Identity
// (and, when set, Issuer), or whose public key (or certificate key) is PublicKey (PKIX DER).
type MonitorQuery struct {
	Identity  string
	Issuer    string
	PublicKey []byte
}

// MonitorMatch is one entry that matched a MonitorQuery.
type MonitorMatch struct {
	Index uint64
	Entry *tlog.HashedRekordRequest
	// Identities and Issuer are read from the entry's certificate, when it has one.
	Identities []string
	Issuer     string
	// publicKey is the PKIX DER of the entry's key.
	publicKey []byte
}

// MonitorOptions configure Monitor.
type MonitorOptions struct {
	// BaseURL is the log's URL; Key its trusted key; StateDir keeps its last checkpoint.
	BaseURL  string
	Key      tlog.LogKey
	StateDir string
	// From is the first index to examine.
	From uint64
	// Follow keeps polling for new checkpoints every Interval (default 5 s) until ctx ends.
	Follow   bool
	Interval time.Duration
	// WitnessPolicy, when set, has every checkpoint read checked against the views of its
	// witnesses (CheckWitnessViews); OnWitness, when set, is given each view read.
	WitnessPolicy *tlog.WitnessPolicy
	OnWitness     func(WitnessView)
	// Client options for the HTTP client.
	Client []ClientOption
}

// Monitor walks the entries of the log from opts.From and calls report on each that matches q.
// Every checkpoint is verified and checked for consistency with the one kept under StateDir, and
// the entries read are re-hashed into the tree, which must have the checkpoint's root: any
// inconsistency ends the walk with an error wrapping ErrLogInconsistent, and so does a witness of
// opts.WitnessPolicy that cosigned a checkpoint inconsistent with the log's. It returns the last
// checkpoint examined.
func Monitor(ctx context.Context, opts MonitorOptions, q MonitorQuery, report func(MonitorMatch) error) (*tlog.Checkpoint, error) {
	if q.Identity == "" && len(q.PublicKey) == 0 {
		return nil, fmt.Errorf("monitor needs an identity or a public key to look for")
	}
	if opts.Interval <= 0 {
		opts.Interval = 5 * time.Second
	}
	c, err := NewClient(opts.BaseURL, opts.Client...)
	if err != nil {
		return nil, err
	}
	cp, err := CheckConsistency(ctx, opts.BaseURL, opts.Key, opts.StateDir, opts.Client...)
	if err != nil {
		return nil, err
	}
	if opts.From > cp.Size {
		return nil, fmt.Errorf("start index %d is beyond the tree size %d", opts.From, cp.Size)
	}
	rf := &compact.RangeFactory{Hash: rfc6962.DefaultHasher.HashChildren}
	tree := rf.NewEmptyRange(0)
	if opts.From > 0 {
		nodes, err := client.FetchRangeNodes(ctx, opts.From, c.ReadTile)
		if err != nil {
			return nil, fmt.Errorf("reading the tree of size %d: %w", opts.From, err)
		}
		if tree, err = rf.NewRange(0, opts.From, nodes); err != nil {
			return nil, fmt.Errorf("reading the tree of size %d: %w", opts.From, err)
		}
	}
	for {
		if err := scanEntries(ctx, c, tree, cp, q, report); err != nil {
			return cp, err
		}
		if err := checkWitnesses(ctx, c, opts, cp); err != nil {
			return cp, err
		}
		if !opts.Follow {
			return cp, nil
		}
		select {
		case <-ctx.Done():
			return cp, nil
		case <-time.After(opts.Interval):
		}
		next, err := CheckConsistency(ctx, opts.BaseURL, opts.Key, opts.StateDir, opts.Client...)
		if err != nil {
			if ctx.Err() != nil {
				return cp, nil
			}
			return cp, err
		}
		cp = next
	}
}

// checkWitnesses checks cp against the views of opts.WitnessPolicy's witnesses, if any.
func checkWitnesses(ctx context.Context, c *Client, opts MonitorOptions, cp *tlog.Checkpoint) error {
	if opts.WitnessPolicy == nil {
		return nil
	}
	views, err := CheckWitnessViews(ctx, c, opts.Key, cp, opts.WitnessPolicy)
	if opts.OnWitness != nil {
		for _, v := range views {
			opts.OnWitness(v)
		}
	}
	return err
}

// scanEntries appends the entries from tree.End() to cp.Size to tree, reporting matches, and
// checks the resulting root against cp.
func scanEntries(ctx context.Context, c *Client, tree *compact.Range, cp *tlog.Checkpoint, q MonitorQuery, report func(MonitorMatch) error) error {
	for tree.End() < cp.Size {
		idx := tree.End()
		b, err := client.GetEntryBundle(ctx, c.ReadEntryBundle, idx/layout.EntryBundleWidth, cp.Size)
		if err != nil {
			return fmt.Errorf("reading entries at %d: %w", idx, err)
		}
		start := idx / layout.EntryBundleWidth * layout.EntryBundleWidth
		for i := idx; i < cp.Size && i-start < uint64(len(b.Entries)); i++ {
			data := b.Entries[i-start]
			if err := tree.Append(tlog.LeafHash(data), nil); err != nil {
				return fmt.Errorf("hashing entry %d: %w", i, err)
			}
			if m, ok := matchEntry(i, data, q); ok {
				if err := report(m); err != nil {
					return err
				}
			}
		}
		if tree.End() == idx {
			return fmt.Errorf("%w: entry bundle at %d is empty but checkpoint %s covers it", ErrLogInconsistent, idx, cp)
		}
	}
	root, err := tree.GetRootHash(nil)
	if err != nil {
		return fmt.Errorf("hashing the tree: %w", err)
	}
	if cp.Size > 0 && !bytes.Equal(root, cp.Hash) {
		return fmt.Errorf("%w: the log's entries hash to root %x, its checkpoint %s says otherwise", ErrLogInconsistent, root, cp)
	}
	return nil
}

// DescribeEntry parses a hashedrekord 0.0.2 entry and reads the identities (email, URI and DNS
// SANs) and OIDC issuer of its certificate, when it has one.
func DescribeEntry(idx uint64, data []byte) (MonitorMatch, error) {
	e, err := tlog.ParseHashedRekordEntry(data)
	if err != nil {
		return MonitorMatch{}, err
	}
	m := MonitorMatch{Index: idx, Entry: e}
	if e.IsCertificate {
		cert, err := x509.ParseCertificate(e.Verifier)
		if err != nil {
			return MonitorMatch{}, fmt.Errorf("entry %d: parsing certificate: %w", idx, err)
		}
		m.Identities = append(m.Identities, cert.EmailAddresses...)
		for _, u := range cert.URIs {
			m.Identities = append(m.Identities, u.String())
		}
		m.Identities = append(m.Identities, cert.DNSNames...)
		if ext, err := certext.Parse(cert); err == nil {
			m.Issuer = ext.OIDCIssuer()
		}
		m.publicKey = cert.RawSubjectPublicKeyInfo
	} else {
		m.publicKey = e.Verifier
	}
	return m, nil
}

// matchEntry parses one entry and applies the query.
func matchEntry(idx uint64, data []byte, q MonitorQuery) (MonitorMatch, bool) {
	m, err := DescribeEntry(idx, data)
	if err != nil {
		return MonitorMatch{}, false
	}
	if len(q.PublicKey) > 0 && bytes.Equal(m.publicKey, q.PublicKey) {
		return m, true
	}
	if q.Identity != "" && (q.Issuer == "" || q.Issuer == m.Issuer) {
		for _, id := range m.Identities {
			if id == q.Identity {
				return m, true
			}
		}
	}
	return MonitorMatch{}, false
}
