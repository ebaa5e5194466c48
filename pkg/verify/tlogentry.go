package verify

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/cosign-like/cosign-like/pkg/root"
	"net/url"
	"strconv"
	"time"

	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	protorekor "github.com/sigstore/protobuf-specs/gen/pb-go/rekor/v1"

	"github.com/cosign-like/cosign-like/pkg/bundle"
	"github.com/cosign-like/cosign-like/pkg/tlog"
)

// verifyTlogEntries checks every transparency log entry of the bundle; one that fails fails the
// bundle. tsTimes are the verified timestamps, used to check Rekor v2 logs' validity windows.
func (v *Verifier) verifyTlogEntries(b *protobundle.Bundle, sc *signedContent, m *material, tsTimes []time.Time) ([]TlogEntry, error) {
	var out []TlogEntry
	for i, e := range b.GetVerificationMaterial().GetTlogEntries() {
		// Bundles v0.1 may carry proofs without a checkpoint: their SET is the log's promise.
		needCheckpoint := b.GetMediaType() != bundle.MediaTypeV01
		te, err := v.verifyTlogEntry(e, sc, m, tsTimes, needCheckpoint)
		if err != nil {
			return nil, fmt.Errorf("%w: entry %d (log index %d): %w", ErrTlog, i, e.GetLogIndex(), err)
		}
		out = append(out, *te)
	}
	return out, nil
}

func (v *Verifier) verifyTlogEntry(e *protorekor.TransparencyLogEntry, sc *signedContent, m *material, tsTimes []time.Time, needCheckpoint bool) (*TlogEntry, error) {
	logID := e.GetLogId().GetKeyId()
	log := v.trusted.TlogByID(logID)
	if log == nil {
		return nil, fmt.Errorf("log %s is not in the trusted root", keyIDHex(logID))
	}
	kind, version := e.GetKindVersion().GetKind(), e.GetKindVersion().GetVersion()
	rekorV2 := false
	switch kind + "/" + version {
	case "hashedrekord/0.0.1", "dsse/0.0.1", "intoto/0.0.2":
	case "hashedrekord/0.0.2", "dsse/0.0.2":
		rekorV2 = true
	default:
		return nil, fmt.Errorf("entry kind %s %s is not supported (hashedrekord 0.0.1/0.0.2, dsse 0.0.1/0.0.2, intoto 0.0.2)", kind, version)
	}
	if err := matchBody(e.GetCanonicalizedBody(), kind, version, sc, m); err != nil {
		return nil, err
	}
	te := &TlogEntry{LogID: logID, BaseURL: log.BaseURL, LogIndex: e.GetLogIndex(), Kind: kind, Version: version}

	if set := e.GetInclusionPromise().GetSignedEntryTimestamp(); len(set) > 0 {
		if rekorV2 {
			return nil, errors.New("a Rekor v2 entry carries a signed entry timestamp")
		}
		it := time.Unix(e.GetIntegratedTime(), 0)
		if e.GetIntegratedTime() <= 0 {
			return nil, fmt.Errorf("integratedTime %d is not a time", e.GetIntegratedTime())
		}
		if !log.ValidAt(it) {
			return nil, fmt.Errorf("log %s was not trusted at integratedTime %s (validFor window)", log.BaseURL, it.UTC().Format(time.RFC3339))
		}
		if err := verifySET(e, log); err != nil {
			return nil, err
		}
		te.IntegratedTime = it
	} else {
		when := tsTimes
		if len(when) == 0 {
			when = []time.Time{v.now()}
		}
		for _, t := range when {
			if !log.ValidAt(t) {
				return nil, fmt.Errorf("log %s was not trusted at %s (validFor window)", log.BaseURL, t.UTC().Format(time.RFC3339))
			}
		}
	}

	if p := e.GetInclusionProof(); p != nil {
		if rekorV2 && p.GetLogIndex() != e.GetLogIndex() {
			return nil, fmt.Errorf("inclusion proof is for index %d, the entry has index %d", p.GetLogIndex(), e.GetLogIndex())
		}
		if p.GetLogIndex() > e.GetLogIndex() {
			return nil, fmt.Errorf("inclusion proof index %d is past the entry's log index %d", p.GetLogIndex(), e.GetLogIndex())
		}
		if err := verifyInclusion(e, log, needCheckpoint); err != nil {
			return nil, err
		}
	} else if rekorV2 {
		return nil, errors.New("a Rekor v2 entry needs an inclusion proof")
	}
	if v.witnesses != nil {
		if err := v.checkWitnessed(e); err != nil {
			return nil, err
		}
	}
	return te, nil
}

// checkWitnessed checks that the entry's inclusion proof is under a checkpoint (already verified
// as its log's) that the witness policy's quorum cosigned.
func (v *Verifier) checkWitnessed(e *protorekor.TransparencyLogEntry) error {
	note := e.GetInclusionProof().GetCheckpoint().GetEnvelope()
	if note == "" {
		return fmt.Errorf("the witness policy requires an inclusion proof under a checkpoint cosigned by its quorum %q, and the entry has none", v.witnesses.Quorum)
	}
	if err := v.witnesses.Satisfied([]byte(note)); err != nil {
		return fmt.Errorf("the checkpoint of tree size %d: %w", e.GetInclusionProof().GetTreeSize(), err)
	}
	return nil
}

// verifySET checks a Rekor v1 signed entry timestamp: the log's ECDSA signature over the
// canonical JSON of {body, integratedTime, logID, logIndex}.
func verifySET(e *protorekor.TransparencyLogEntry, log *root.TransparencyLog) error {
	pub, ok := log.PublicKey.(*ecdsa.PublicKey)
	if !ok {
		return fmt.Errorf("log %s has a %T key: signed entry timestamps need ECDSA", log.BaseURL, log.PublicKey)
	}
	body, _ := json.Marshal(base64.StdEncoding.EncodeToString(e.GetCanonicalizedBody()))
	logID, _ := json.Marshal(hex.EncodeToString(e.GetLogId().GetKeyId()))
	// Keys in lexical order with no whitespace: the RFC 8785 form Rekor signs.
	payload := `{"body":` + string(body) +
		`,"integratedTime":` + strconv.FormatInt(e.GetIntegratedTime(), 10) +
		`,"logID":` + string(logID) +
		`,"logIndex":` + strconv.FormatInt(e.GetLogIndex(), 10) + `}`
	digest := sha256.Sum256([]byte(payload))
	if !ecdsa.VerifyASN1(pub, digest[:], e.GetInclusionPromise().GetSignedEntryTimestamp()) {
		return fmt.Errorf("signed entry timestamp does not verify under the key of log %s", log.BaseURL)
	}
	return nil
}

// verifyInclusion checks the checkpoint (signed by this log, origin = host of its base URL)
// and the Merkle inclusion proof of the entry's body under it. Without a checkpoint (allowed
// only when needCheckpoint is false) the proof is checked against its own root hash, which
// catches a proof for another entry but proves nothing about the log.
func verifyInclusion(e *protorekor.TransparencyLogEntry, log *root.TransparencyLog, needCheckpoint bool) error {
	p := e.GetInclusionProof()
	leaf := tlog.LeafHash(e.GetCanonicalizedBody())
	if p.GetCheckpoint().GetEnvelope() == "" {
		if err := tlog.VerifyInclusion(uint64(p.GetLogIndex()), uint64(p.GetTreeSize()), leaf, p.GetHashes(), p.GetRootHash()); err != nil {
			return err
		}
		if needCheckpoint {
			return errors.New("the inclusion proof has no checkpoint")
		}
		return nil
	}
	u, err := url.Parse(log.BaseURL)
	if err != nil || u.Host == "" {
		return fmt.Errorf("log base URL %q has no host to check the checkpoint origin against", log.BaseURL)
	}
	// The origin is the host of the base URL; with a port in the URL, both the bare host name
	// (what sigstore-go derives) and host:port are accepted.
	origins := []string{u.Hostname()}
	if u.Host != u.Hostname() {
		origins = append(origins, u.Host)
	}
	var cp *tlog.Checkpoint
	var errs []error
	for _, origin := range origins {
		c, _, err := tlog.OpenCheckpoint([]byte(p.GetCheckpoint().GetEnvelope()), []tlog.LogKey{{Origin: origin, KeyID: log.ID, PublicKey: log.PublicKey}})
		if err == nil {
			cp = c
			break
		}
		errs = append(errs, err)
	}
	if cp == nil {
		return fmt.Errorf("checkpoint: %w", errors.Join(errs...))
	}
	if cp.Size != uint64(p.GetTreeSize()) {
		return fmt.Errorf("checkpoint is for tree size %d, the inclusion proof for %d", cp.Size, p.GetTreeSize())
	}
	if !bytes.Equal(cp.Hash, p.GetRootHash()) {
		return fmt.Errorf("checkpoint root hash %x differs from the inclusion proof's root hash %x", cp.Hash, p.GetRootHash())
	}
	return tlog.VerifyInclusion(uint64(p.GetLogIndex()), uint64(p.GetTreeSize()), leaf, p.GetHashes(), p.GetRootHash())
}
