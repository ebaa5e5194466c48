package verify_test

import (
	"errors"
	"strings"
	"testing"

	vs "github.com/cosign-like/cosign-like/internal/testutil/virtualsigstore"
	"github.com/cosign-like/cosign-like/pkg/tlog"
	"github.com/cosign-like/cosign-like/pkg/verify"
)

func TestWitnessPolicy(t *testing.T) {
	w := newWorld(t)
	w1 := must[*vs.Witness](t)(vs.NewWitness("witness.example/w1"))
	w2 := must[*vs.Witness](t)(vs.NewWitness("witness.example/w2"))
	w3 := must[*vs.Witness](t)(vs.NewWitness("witness.example/w3"))
	stranger := must[*vs.Witness](t)(vs.NewWitness("witness.example/w1"))
	one := must[*tlog.WitnessPolicy](t)(tlog.ParseWitnessPolicy([]byte(w1.PolicyLine("w1") + "quorum w1\n")))
	twoOfThree := must[*tlog.WitnessPolicy](t)(tlog.ParseWitnessPolicy([]byte(
		w1.PolicyLine("w1") + w2.PolicyLine("w2") + w3.PolicyLine("w3") + "group g 2 w1 w2 w3\nquorum g\n")))
	other := w.log.Checkpoint(1, make([]byte, 32)) // a checkpoint of another tree

	// cosign returns the checkpoint with the given witnesses' cosignatures appended.
	cosign := func(t *testing.T, cp string, by ...*vs.Witness) string {
		t.Helper()
		for _, x := range by {
			cp = must[string](t)(x.Cosign(cp, w.now))
		}
		return cp
	}
	cases := []struct {
		name    string
		policy  *tlog.WitnessPolicy
		cosign  func(t *testing.T, cp string) string
		wantErr error  // nil: accepted
		message string // in the error
	}{
		{name: "cosigned by the quorum", policy: one, cosign: func(t *testing.T, cp string) string { return cosign(t, cp, w1) }},
		{name: "two of three", policy: twoOfThree, cosign: func(t *testing.T, cp string) string { return cosign(t, cp, w3, w1) }},
		{name: "all three", policy: twoOfThree, cosign: func(t *testing.T, cp string) string { return cosign(t, cp, w1, w2, w3) }},
		{name: "no cosignature", policy: one, cosign: func(_ *testing.T, cp string) string { return cp },
			wantErr: tlog.ErrQuorumNotMet, message: `quorum "w1"`},
		{name: "cosignature by an unknown key", policy: one, cosign: func(t *testing.T, cp string) string { return cosign(t, cp, stranger, w2) },
			wantErr: tlog.ErrQuorumNotMet, message: `quorum "w1"`},
		{name: "cosignature over another checkpoint", policy: one, cosign: func(t *testing.T, cp string) string {
			c := must[*tlog.Cosignature](t)(w1.Cosignature(other, w.now))
			return string(tlog.CosignedNote([]byte(cp), c))
		}, wantErr: tlog.ErrBadCosignature, message: `witness "w1"`},
		{name: "too few witnesses", policy: twoOfThree, cosign: func(t *testing.T, cp string) string { return cosign(t, cp, w2) },
			wantErr: tlog.ErrQuorumNotMet, message: `quorum "g" needs more than the cosignatures of [w2]`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v := w.verifier(t, w.root, verify.WithWitnessPolicy(c.policy))
			s := w.sign(t, blob, signing{})
			proof := s.b.GetVerificationMaterial().GetTlogEntries()[0].GetInclusionProof()
			proof.Checkpoint.Envelope = c.cosign(t, proof.GetCheckpoint().GetEnvelope())
			_, err := v.Verify(roundTrip(t, s.b), verify.ArtifactBytes(blob), identityPolicy())
			if c.wantErr == nil {
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				return
			}
			if !errors.Is(err, verify.ErrTlog) || !errors.Is(err, c.wantErr) || !strings.Contains(err.Error(), c.message) {
				t.Fatalf("Verify: %v; want ErrTlog and %v, naming %s", err, c.wantErr, c.message)
			}
		})
	}
	t.Run("without a policy cosignatures are not needed", func(t *testing.T) {
		s := w.sign(t, blob, signing{})
		if _, err := w.verifier(t, w.root).Verify(s.b, verify.ArtifactBytes(blob), identityPolicy()); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("the log's signature is still required", func(t *testing.T) {
		forger := must[*vs.Log](t)(vs.NewLog(w.log.Origin))
		s := w.sign(t, blob, signing{})
		proof := s.b.GetVerificationMaterial().GetTlogEntries()[0].GetInclusionProof()
		proof.Checkpoint.Envelope = cosign(t, forger.Checkpoint(uint64(proof.GetTreeSize()), proof.GetRootHash()), w1)
		_, err := w.verifier(t, w.root, verify.WithWitnessPolicy(one)).Verify(s.b, verify.ArtifactBytes(blob), identityPolicy())
		if !errors.Is(err, verify.ErrTlog) || !errors.Is(err, tlog.ErrCheckpoint) {
			t.Fatalf("Verify of a cosigned checkpoint the log did not sign: %v", err)
		}
	})
}
