// Package witnesstest serves our witness (pkg/witness) for the tests of the log servers that
// submit checkpoints to it: on 127.0.0.1, following the log keys given, with a switch that takes
// it down (503) and the policy requiring it, in the form Tessera reads.
package witnesstest

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/cosign-like/cosign-like/internal/testutil"
	"github.com/cosign-like/cosign-like/pkg/tlog"
	"github.com/cosign-like/cosign-like/pkg/witness"
)

// Name is the key name of the witness Start serves.
const Name = "witness.test/w1"

// Witness is our witness, answering 503 while Down is set.
type Witness struct {
	*witness.Server
	Down atomic.Bool
}

// Handler serves the witness, or 503 while Down is set.
func (w *Witness) Handler() http.Handler {
	h := w.Server.Handler()
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if w.Down.Load() {
			http.Error(rw, "down", http.StatusServiceUnavailable)
			return
		}
		h.ServeHTTP(rw, r)
	})
}

// Started is a witness Start serves, with the policy requiring it.
type Started struct {
	*Witness
	// URL is the witness's base URL.
	URL string
	// PolicyText is a C2SP tlog-policy requiring the witness, its URL on its line.
	PolicyText []byte
	// Policy is PolicyText parsed.
	Policy *tlog.WitnessPolicy
}

// Start serves a new witness following logs on 127.0.0.1 until the test ends. A log whose Close
// waits for a witnessed checkpoint, started after the witness, should register a cleanup that
// clears Down after the log was started (cleanups run last first).
func Start(t testing.TB, logs ...tlog.LogKey) *Started {
	t.Helper()
	_, wpriv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := tlog.NewCosignatureSigner(Name, wpriv)
	if err != nil {
		t.Fatal(err)
	}
	store, err := witness.NewDirStore(filepath.Join(t.TempDir(), "state"))
	if err != nil {
		t.Fatal(err)
	}
	w := testutil.StartServer(t, func(string) (*Witness, error) {
		s, err := witness.New(context.Background(), witness.Config{
			Signer: signer, Logs: logs, Store: store,
			Options: witness.Options{Logger: slog.New(slog.DiscardHandler)},
		})
		return &Witness{Server: s}, err
	})
	text := fmt.Appendf(nil, "witness w1 %s %s\nquorum w1\n", signer.Verifier().VerifierKey(), w.URL)
	policy, err := tlog.ParseWitnessPolicy(text)
	if err != nil {
		t.Fatal(err)
	}
	return &Started{Witness: w.Server, URL: w.URL, PolicyText: text, Policy: policy}
}
