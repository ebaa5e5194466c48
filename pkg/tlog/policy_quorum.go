package tlog

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// LogKeys are the keys of the policy's logs that this package can verify checkpoints with
// (Ed25519, RFC 6962 tree head), each named by its origin.
func (p *WitnessPolicy) LogKeys() []LogKey {
	var keys []LogKey
	for _, l := range p.Logs {
		if k, err := l.Key.LogKey(); err == nil {
			keys = append(keys, k)
		}
	}
	return keys
}

// Cosignatures checks the cosignatures in a signed checkpoint note and returns the valid ones,
// by the policy name of their witness. Signature lines of keys the policy does not list are
// ignored, and so are witnesses whose key type is not supported; a line with a listed witness's
// key name and key ID that does not verify (or has a zero timestamp) fails the whole note, as
// C2SP signed-note advises. It does not check the log's signature.
func (p *WitnessPolicy) Cosignatures(signedNote []byte) (map[string]*Cosignature, error) {
	text, sigs, err := splitNote(signedNote)
	if err != nil {
		return nil, err
	}
	if _, err := ParseCheckpoint(text); err != nil {
		return nil, err
	}
	found := map[string]*Cosignature{}
	for _, w := range p.Witnesses {
		if w.Verifier == nil {
			continue
		}
		c, err := w.Verifier.verifyIn(text, sigs)
		if errors.Is(err, ErrNoCosignature) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("witness %q: %w", w.Name, err)
		}
		found[w.Name] = c
	}
	return found, nil
}

// QuorumMet reports whether the policy's quorum is met when exactly the witnesses for which
// cosigned (given a policy witness name) is true have cosigned. A quorum of none is always met.
func (p *WitnessPolicy) QuorumMet(cosigned func(witness string) bool) bool {
	if p.quorum < 0 {
		return true
	}
	witnessed := make([]bool, len(p.nodes))
	for i, n := range p.nodes {
		if n.witness >= 0 {
			w := p.Witnesses[n.witness]
			witnessed[i] = w.Verifier != nil && cosigned(w.Name)
			continue
		}
		count := 0
		for _, m := range n.members {
			if witnessed[m] {
				count++
			}
		}
		witnessed[i] = count >= n.threshold
	}
	return witnessed[p.quorum]
}

// Satisfied checks that a signed checkpoint note carries valid cosignatures that meet the
// policy's quorum (see Cosignatures for which lines count). It returns nil when they do, an
// error wrapping ErrQuorumNotMet when too few witnesses cosigned, and the error of Cosignatures
// otherwise. It does not check the log's signature: OpenCheckpoint (with the log's key) or
// VerifyCheckpoint (with the policy's logs) does.
func (p *WitnessPolicy) Satisfied(signedNote []byte) error {
	found, err := p.Cosignatures(signedNote)
	if err != nil {
		return err
	}
	if p.QuorumMet(func(w string) bool { return found[w] != nil }) {
		return nil
	}
	names := make([]string, 0, len(found))
	for n := range found {
		names = append(names, n)
	}
	slices.Sort(names)
	return fmt.Errorf("%w: quorum %q needs more than the cosignatures of [%s]%s", ErrQuorumNotMet, p.Quorum,
		strings.Join(names, " "), p.unsupportedNote())
}

// unsupportedNote names, for an error message, the witnesses whose keys cannot be verified.
func (p *WitnessPolicy) unsupportedNote() string {
	var names []string
	for _, w := range p.Witnesses {
		if w.Verifier == nil {
			names = append(names, w.Name)
		}
	}
	if len(names) == 0 {
		return ""
	}
	return fmt.Sprintf(" (unsupported witness keys, never counted: %s)", strings.Join(names, " "))
}

// VerifyCheckpoint checks a signed checkpoint note against the whole policy: a signature by one
// of its logs (OpenCheckpoint with LogKeys) and a quorum of cosignatures (Satisfied). A policy
// that lists no log it can verify accepts no checkpoint here; callers that know the log from
// elsewhere use OpenCheckpoint and Satisfied.
func (p *WitnessPolicy) VerifyCheckpoint(signedNote []byte) (*Checkpoint, error) {
	cp, _, err := OpenCheckpoint(signedNote, p.LogKeys())
	if err != nil {
		return nil, err
	}
	if err := p.Satisfied(signedNote); err != nil {
		return nil, err
	}
	return cp, nil
}
