package cosign

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	trustrootv1 "github.com/sigstore/protobuf-specs/gen/pb-go/trustroot/v1"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/cosign-like/cosign-like/internal/testutil"
	"github.com/cosign-like/cosign-like/pkg/root"
	"github.com/cosign-like/cosign-like/pkg/tlog/logserver"
	"github.com/cosign-like/cosign-like/pkg/verify"
)

// A log that serves both Rekor APIs is listed with its v1 key and its v2 key under one URL; the
// consistency check uses the key that signs its checkpoint, whichever comes first.
func TestCheckLogConsistencyPicksTheCheckpointKey(t *testing.T) {
	dir := testutil.StorageDir(t)
	served := testutil.StartServer(t, func(url string) (*logserver.Server, error) {
		if err := logserver.Init(context.Background(), dir, logserver.InitOptions{URL: url}); err != nil {
			return nil, err
		}
		return logserver.Open(context.Background(), dir, logserver.Options{})
	})
	raw, err := os.ReadFile(filepath.Join(dir, logserver.TrustedRootFile))
	if err != nil {
		t.Fatal(err)
	}
	var tr trustrootv1.TrustedRoot
	if err := protojson.Unmarshal(raw, &tr); err != nil {
		t.Fatal(err)
	}
	if len(tr.Tlogs) != 2 {
		t.Fatalf("log init lists %d logs, want the v2 and the v1 key", len(tr.Tlogs))
	}
	tr.Tlogs[0], tr.Tlogs[1] = tr.Tlogs[1], tr.Tlogs[0] // the v1 (ECDSA) key first
	reversed, _ := protojson.Marshal(&tr)
	trusted, err := root.ParseTrustedRoot(reversed)
	if err != nil {
		t.Fatal(err)
	}
	entries := []verify.TlogEntry{{BaseURL: served.URL}}
	if err := CheckLogConsistency(context.Background(), trusted, t.TempDir(), entries); err != nil {
		t.Fatalf("CheckLogConsistency with the v1 key listed first: %v", err)
	}
}
