package tsa_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/digitorus/timestamp"

	"github.com/cosign-like/cosign-like/internal/testutil"
	"github.com/cosign-like/cosign-like/pkg/ca/pki"
	"github.com/cosign-like/cosign-like/pkg/tsa"
)

// TestTSAReplicaKilledUnderLoad serves one TSA directory from three `tsa serve` processes behind
// haproxy, its signing key in a file or in one SoftHSM token that every replica opens, and
// SIGKILLs one while 16 clients ask for 600 timestamps, retrying through the balancer: every
// timestamp is granted, signed by the one TSA certificate, which chains to the one root.
func TestTSAReplicaKilledUnderLoad(t *testing.T) {
	for _, key := range []string{"file", "pkcs11"} {
		t.Run(key, func(t *testing.T) {
			var initArgs, serveArgs []string
			if key == "pkcs11" {
				module := testutil.NewSoftHSMToken(t, "tsa-replicas", "1234", nil)
				initArgs = []string{"--kms", "pkcs11:token=tsa-replicas;object=tsa-signing?module-path=" + module, "--pkcs11-pin", "1234"}
				serveArgs = []string{"--pkcs11-pin", "1234"}
			}
			testTSAReplicaKilled(t, initArgs, serveArgs)
		})
	}
}

func testTSAReplicaKilled(t *testing.T, initArgs, serveArgs []string) {
	bin := testutil.Binary(t)
	dir := filepath.Join(testutil.StorageDir(t), "tsa")
	if out, err := exec.Command(bin, append([]string{"tsa", "init", "--dir", dir}, initArgs...)...).CombinedOutput(); err != nil {
		t.Fatalf("cosign-like tsa init: %v\n%s", err, out)
	}
	if _, err := os.Stat(filepath.Join(dir, tsa.KeyFile)); len(initArgs) > 0 && !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a key file was written for a token-held TSA key: %v", err)
	}
	chain, err := pki.ReadCertificates(filepath.Join(dir, tsa.ChainFile))
	if err != nil {
		t.Fatal(err)
	}
	set := testutil.StartBalanced(t, 3, func(int) *testutil.ServerProcess {
		return testutil.StartServerCommand(t, "TSA", nil, bin, append([]string{"tsa", "serve", "--dir", dir, "--addr", "127.0.0.1:0", "--log-level", "warn"}, serveArgs...)...)
	})
	url := set.URL + tsa.TimestampPath
	roots, inter := x509.NewCertPool(), x509.NewCertPool()
	roots.AddCert(chain[len(chain)-1])
	for _, c := range chain[1 : len(chain)-1] {
		inter.AddCert(c)
	}
	ctx := context.Background()
	const total = 600
	var next, done, retries atomic.Int64
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for n := next.Add(1); n <= total; n = next.Add(1) {
				sig := fmt.Appendf(nil, "signature %d", n)
				var der []byte
				var err error
				for attempt := 0; ; attempt++ {
					if der, err = tsa.Timestamp(ctx, url, sig); err == nil {
						break
					}
					if attempt == 50 {
						t.Errorf("timestamp %d not granted after 50 attempts: %v", n, err)
						return
					}
					retries.Add(1)
					time.Sleep(100 * time.Millisecond)
				}
				ts, err := timestamp.ParseResponse(der)
				if err != nil {
					t.Errorf("timestamp %d: %v", n, err)
					continue
				}
				if want := sha256.Sum256(sig); !bytes.Equal(ts.HashedMessage, want[:]) {
					t.Errorf("timestamp %d covers another message", n)
					continue
				}
				if len(ts.Certificates) == 0 || !ts.Certificates[0].Equal(chain[0]) {
					t.Errorf("timestamp %d is not signed by the TSA's one certificate", n)
					continue
				}
				if _, err := ts.Certificates[0].Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter,
					KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageTimeStamping}}); err != nil {
					t.Errorf("timestamp %d: the TSA certificate does not chain to the root: %v", n, err)
				}
				if done.Add(1) == total/3 {
					set.Procs[1].Kill()
				}
			}
		})
	}
	wg.Wait()
	t.Logf("%d timestamps from 3 replicas (one SIGKILLed after %d), %d requests retried", done.Load(), total/3, retries.Load())
	if done.Load() != total {
		t.Fatalf("%d timestamps granted, want %d", done.Load(), total)
	}
}
