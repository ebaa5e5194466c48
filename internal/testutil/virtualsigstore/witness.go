package virtualsigstore

import (
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"time"

	"github.com/cosign-like/cosign-like/pkg/tlog"
)

// Witness is a C2SP tlog-witness's key: it cosigns checkpoints (cosignature/v1) without
// checking them, so a test can cosign whatever it needs to.
type Witness struct {
	signer *tlog.CosignatureSigner
}

// NewWitness makes a witness whose key is named name.
func NewWitness(name string) (*Witness, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	s, err := tlog.NewCosignatureSigner(name, priv)
	if err != nil {
		return nil, err
	}
	return &Witness{signer: s}, nil
}

// VerifierKey is the witness's cosignature/v1 verifier key, as a policy's witness line names it.
func (w *Witness) VerifierKey() string { return w.signer.Verifier().VerifierKey().String() }

// PolicyLine is the witness line "witness <name> <vkey>" of a policy naming it name.
func (w *Witness) PolicyLine(name string) string {
	return fmt.Sprintf("witness %s %s\n", name, w.VerifierKey())
}

// Cosignature is the witness's cosignature of a signed checkpoint note's body, as of at.
func (w *Witness) Cosignature(checkpoint string, at time.Time) (*tlog.Cosignature, error) {
	cp, err := tlog.UnverifiedCheckpoint([]byte(checkpoint))
	if err != nil {
		return nil, err
	}
	return w.signer.Cosign(cp.Body(), at)
}

// Cosign returns the signed checkpoint note with the witness's cosignature appended.
func (w *Witness) Cosign(checkpoint string, at time.Time) (string, error) {
	c, err := w.Cosignature(checkpoint, at)
	if err != nil {
		return "", err
	}
	return string(tlog.CosignedNote([]byte(checkpoint), c)), nil
}
