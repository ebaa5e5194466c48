package ctlog

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"

	"github.com/transparency-dev/tessera/api/layout"
	"golang.org/x/crypto/cryptobyte"

	"github.com/cosign-like/cosign-like/pkg/tlog/storage"
)

// loggedEntry is what the tree holds of one entry that a duplicate's SCT must repeat: its
// timestamp, and its identity (the SHA-256 of the certificate, or precertificate, submitted:
// what Tessera's antispam index knows it by).
type loggedEntry struct {
	timestamp uint64
	identity  [32]byte
}

// readLogged returns the entry at idx, once the tree holds it (Tessera's AWS driver integrates
// about a second after it sequences).
func (l *Server) readLogged(ctx context.Context, idx uint64) (loggedEntry, error) {
	size, err := storage.AwaitIntegration(ctx, l.reader, idx+1)
	if err != nil {
		return loggedEntry{}, err
	}
	n := idx / layout.EntryBundleWidth
	bundle, err := l.reader.ReadEntryBundle(ctx, n, layout.PartialTileSize(0, n, size))
	if err != nil {
		return loggedEntry{}, fmt.Errorf("reading the data tile of entry %d: %w", idx, err)
	}
	entries, err := parseDataTile(bundle)
	if err != nil {
		return loggedEntry{}, fmt.Errorf("the data tile of entry %d: %w", idx, err)
	}
	pos := idx % layout.EntryBundleWidth
	if pos >= uint64(len(entries)) {
		return loggedEntry{}, fmt.Errorf("the data tile of entry %d holds %d entries", idx, len(entries))
	}
	return entries[pos], nil
}

var errDataTile = errors.New("malformed data tile")

// parseDataTile reads the TileLeaf records of a c2sp.org/static-ct-api data tile: each a
// timestamp, an entry type, the certificate (x509_entry) or the issuer key hash and TBS
// certificate (precert_entry), the extensions, then the precertificate (precert_entry) and the
// chain's fingerprints.
func parseDataTile(tile []byte) ([]loggedEntry, error) {
	s := cryptobyte.String(tile)
	var out []loggedEntry
	for !s.Empty() {
		if len(out) == layout.EntryBundleWidth {
			return nil, fmt.Errorf("%w: more than %d entries", errDataTile, layout.EntryBundleWidth)
		}
		var e loggedEntry
		var typ uint16
		var cert, tbs, extensions, precert, fingerprints cryptobyte.String
		if !s.ReadUint64(&e.timestamp) || !s.ReadUint16(&typ) {
			return nil, fmt.Errorf("%w: entry %d is cut short", errDataTile, len(out))
		}
		switch typ {
		case 0: // x509_entry
			if !s.ReadUint24LengthPrefixed(&cert) {
				return nil, fmt.Errorf("%w: entry %d: certificate", errDataTile, len(out))
			}
			e.identity = sha256.Sum256(cert)
		case 1: // precert_entry
			if !s.Skip(sha256.Size) || !s.ReadUint24LengthPrefixed(&tbs) {
				return nil, fmt.Errorf("%w: entry %d: precertificate TBS", errDataTile, len(out))
			}
		default:
			return nil, fmt.Errorf("%w: entry %d: entry type %d", errDataTile, len(out), typ)
		}
		if !s.ReadUint16LengthPrefixed(&extensions) {
			return nil, fmt.Errorf("%w: entry %d: extensions", errDataTile, len(out))
		}
		if typ == 1 {
			if !s.ReadUint24LengthPrefixed(&precert) {
				return nil, fmt.Errorf("%w: entry %d: precertificate", errDataTile, len(out))
			}
			e.identity = sha256.Sum256(precert)
		}
		if !s.ReadUint16LengthPrefixed(&fingerprints) || len(fingerprints)%sha256.Size != 0 {
			return nil, fmt.Errorf("%w: entry %d: chain fingerprints", errDataTile, len(out))
		}
		out = append(out, e)
	}
	return out, nil
}
