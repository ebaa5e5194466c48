package logclient

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"

	"github.com/cosign-like/cosign-like/pkg/tlog"
)

// WitnessView is the latest checkpoint of a log that one witness of a policy cosigned.
type WitnessView struct {
	// Witness is the witness's name in the policy; URL the prefix its endpoints are under.
	Witness string
	URL     string
	// Checkpoint is the checkpoint it cosigned, verified with the log's key and the witness's;
	// nil when it has cosigned none of that log, or Err is set.
	Checkpoint *tlog.Checkpoint
	// Err says why the witness's view could not be read or verified (it is then not compared).
	Err error
}

// CheckWitnessViews reads, from each witness of policy that has a URL and a key this package
// verifies, the latest checkpoint of cp's log it cosigned (C2SP tlog-witness:
// GET <url>/<hex SHA-256 of the origin>/checkpoint), checks the log's signature (key) and the
// witness's cosignature on it, and checks it against cp, the log's checkpoint as this client read
// it: equal sizes need equal roots, otherwise c's tiles must give a consistency proof from the
// smaller to the larger. A fork ends the check with an error wrapping ErrLogInconsistent that
// names the witness and both checkpoints; a witness whose view cannot be read or verified has it
// in its view's Err, and the others are still checked. It returns the views checked before any
// fork.
func CheckWitnessViews(ctx context.Context, c *Client, key tlog.LogKey, cp *tlog.Checkpoint, policy *tlog.WitnessPolicy) ([]WitnessView, error) {
	id := sha256.Sum256([]byte(cp.Origin))
	var views []WitnessView
	for _, w := range policy.Witnesses {
		if w.URL == "" || w.Verifier == nil {
			continue
		}
		v := WitnessView{Witness: w.Name, URL: w.URL}
		v.Checkpoint, v.Err = c.witnessCheckpoint(ctx, w, hex.EncodeToString(id[:]), key)
		if v.Checkpoint != nil {
			if err := c.consistent(ctx, v.Checkpoint, cp); err != nil {
				return views, fmt.Errorf("%w: fork: witness %q (%s) cosigned checkpoint %s, the log serves %s: %w",
					ErrLogInconsistent, w.Name, w.URL, v.Checkpoint, cp, err)
			}
		}
		views = append(views, v)
	}
	return views, nil
}

// witnessCheckpoint fetches and verifies the witness's latest cosigned checkpoint of the log
// whose origin hashes to id; nil, nil when the witness has none.
func (c *Client) witnessCheckpoint(ctx context.Context, w tlog.PolicyWitness, id string, key tlog.LogKey) (*tlog.Checkpoint, error) {
	base, err := url.Parse(strings.TrimSuffix(w.URL, "/") + "/")
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return nil, fmt.Errorf("witness URL %q: want http(s)://host[:port][/path]", w.URL)
	}
	raw, err := (&Client{base: base, http: c.http}).get(ctx, id+"/checkpoint", tlog.MaxNoteSize)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	cp, _, err := tlog.OpenCheckpoint(raw, []tlog.LogKey{key})
	if err != nil {
		return nil, fmt.Errorf("the checkpoint it serves: %w", err)
	}
	if _, err := w.Verifier.VerifyNote(raw); err != nil {
		return nil, fmt.Errorf("the checkpoint it serves: %w", err)
	}
	return cp, nil
}

// consistent checks that the smaller of two checkpoints of one log is a prefix of the larger:
// equal sizes need equal roots, otherwise a consistency proof computed from c's tiles.
func (c *Client) consistent(ctx context.Context, a, b *tlog.Checkpoint) error {
	if a.Size > b.Size {
		a, b = b, a
	}
	if a.Size == b.Size {
		if !bytes.Equal(a.Hash, b.Hash) {
			return fmt.Errorf("two checkpoints of size %d with different roots", a.Size)
		}
		return nil
	}
	proof, err := c.ConsistencyProof(ctx, a.Size, b.Size)
	if err != nil {
		return err
	}
	return tlog.VerifyConsistency(a.Size, b.Size, proof, a.Hash, b.Hash)
}
