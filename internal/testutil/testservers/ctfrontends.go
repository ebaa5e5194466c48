package testservers

import (
	"bytes"
	"context"
	"crypto"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	ct "github.com/google/certificate-transparency-go"
	cttls "github.com/google/certificate-transparency-go/tls"
	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
	"github.com/transparency-dev/tessera/api/layout"
	"github.com/transparency-dev/tessera/client"

	"github.com/cosign-like/cosign-like/internal/testutil"
	"github.com/cosign-like/cosign-like/pkg/ca"
	"github.com/cosign-like/cosign-like/pkg/ca/ctlog"
	"github.com/cosign-like/cosign-like/pkg/tlog/storage"
)

// CTFrontEnds is a CT log run as `cosign-like ct serve` processes, as a user starts them, on one
// aws:// storage (a MariaDB database and a versitygw bucket) behind haproxy.
type CTFrontEnds struct {
	// URL is the balancer's, http://<addr>.
	URL string
	// PublicKey is the key the log's SCTs and checkpoints are signed with.
	PublicKey crypto.PublicKey
	// PublicKeyFile is the PEM file ct init wrote it to (for ca serve --ct-public-key).
	PublicKeyFile string
	// Origin is the first line of its checkpoints.
	Origin string
	// Procs are the front-ends, each serving its own copy of the state directory.
	Procs []*testutil.ServerProcess
	// Storage is the aws:// storage they share.
	Storage string
}

// StartCTFrontEnds runs `<bin> ct init` (accepting chains to the roots in rootsPEM; any
// self-signed root when empty) and n `<bin> ct serve --storage aws://...` processes, each on its
// own copy of the state directory, behind haproxy; everything stops when the test ends.
func StartCTFrontEnds(tb testing.TB, bin string, n int, rootsPEM []byte) *CTFrontEnds {
	tb.Helper()
	db := testutil.StartMariaDB(tb)
	objects := testutil.StartObjectStore(tb)
	spec := storage.AWSSpec{DSN: db.CreateDatabase(tb, "ct"), Bucket: objects.Bucket, Endpoint: objects.Endpoint,
		Region: objects.Region, PathStyle: true}.String()
	dir := filepath.Join(testutil.StorageDir(tb), "ct")
	args := []string{"ct", "init", "--dir", dir, "--url", "http://ct.test"}
	if len(rootsPEM) > 0 {
		roots := filepath.Join(tb.TempDir(), "roots.pem")
		if err := os.WriteFile(roots, rootsPEM, 0o644); err != nil {
			tb.Fatal(err)
		}
		args = append(args, "--roots", roots)
	}
	if out, err := exec.Command(bin, args...).CombinedOutput(); err != nil {
		tb.Fatalf("cosign-like %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	f := &CTFrontEnds{Storage: spec, PublicKeyFile: filepath.Join(dir, ctlog.PublicKeyFile)}
	pemKey, err := os.ReadFile(f.PublicKeyFile)
	if err != nil {
		tb.Fatal(err)
	}
	if f.PublicKey, err = ca.ParsePublicKeyPEM(pemKey); err != nil {
		tb.Fatal(err)
	}
	origin, err := os.ReadFile(filepath.Join(dir, ctlog.OriginFile))
	if err != nil {
		tb.Fatal(err)
	}
	f.Origin = strings.TrimSpace(string(origin))
	set := testutil.StartBalanced(tb, n, func(int) *testutil.ServerProcess {
		return testutil.StartServerCommand(tb, "CT log", objects.Env(), bin, "ct", "serve",
			"--dir", testutil.ReplicaDir(tb, dir), "--addr", "127.0.0.1:0", "--log-level", "warn", "--storage", spec)
	})
	f.Procs, f.URL = set.Procs, set.URL
	return f
}

// checkpoint reads the checkpoint the log serves through the balancer and checks its signature.
func (f *CTFrontEnds) checkpoint() (uint64, [32]byte, error) {
	cp, err := testutil.Get(context.Background(), f.URL+"/checkpoint")
	if err != nil {
		return 0, [32]byte{}, err
	}
	size, root, err := ctlog.VerifyCheckpoint(cp, f.Origin, f.PublicKey)
	if err != nil {
		return 0, [32]byte{}, fmt.Errorf("the CT log's checkpoint %q: %w", cp, err)
	}
	return size, root, nil
}

// CTTree is a CT log's tree read whole through its read endpoints at one checkpoint.
type CTTree struct {
	// Size and Root are the checkpoint's.
	Size uint64
	Root [32]byte
	// Leaves are the Merkle leaf hashes, by index.
	Leaves [][]byte
	fetch  client.TileFetcherFunc
}

// ReadTree waits up to 30 s for a checkpoint covering at least size entries, reads every leaf
// hash of its tree through /tile/ (each tile at the exact width tlog-tiles gives it: a missing
// or short tile is a gap and fails the test), and checks that they hash to its root.
func (f *CTFrontEnds) ReadTree(tb testing.TB, size uint64) *CTTree {
	tb.Helper()
	ctx := context.Background()
	t := &CTTree{}
	// The first checkpoint is published within about a second of the log's first entries.
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		var err error
		if t.Size, t.Root, err = f.checkpoint(); err == nil && t.Size >= size {
			break
		}
		if time.Now().After(deadline) {
			tb.Fatalf("the CT log's checkpoint is at size %d after 30 s, want %d (%v)", t.Size, size, err)
		}
	}
	var mu sync.Mutex
	tiles := map[string][]byte{}
	t.fetch = func(ctx context.Context, level, index uint64, p uint8) ([]byte, error) {
		path := layout.TilePath(level, index, p)
		mu.Lock()
		b, ok := tiles[path]
		mu.Unlock()
		if ok {
			return b, nil
		}
		b, err := testutil.Get(ctx, f.URL+"/"+path)
		if err != nil {
			return nil, err
		}
		mu.Lock()
		tiles[path] = b
		mu.Unlock()
		return b, nil
	}
	var err error
	if t.Leaves, err = client.FetchLeafHashes(ctx, t.fetch, 0, t.Size, t.Size); err != nil {
		tb.Fatalf("reading the CT log's leaf hashes: %v", err)
	}
	if uint64(len(t.Leaves)) != t.Size {
		tb.Fatalf("the CT log's tiles hold %d leaf hashes, checkpoint size %d: the tree has a gap", len(t.Leaves), t.Size)
	}
	r := (&compact.RangeFactory{Hash: rfc6962.DefaultHasher.HashChildren}).NewEmptyRange(0)
	for _, h := range t.Leaves {
		if err := r.Append(h, nil); err != nil {
			tb.Fatal(err)
		}
	}
	if got, err := r.GetRootHash(nil); err != nil || !bytes.Equal(got, t.Root[:]) {
		tb.Fatalf("the CT log's leaf hashes hash to %x (%v), its checkpoint's root is %x", got, err, t.Root)
	}
	return t
}

// CheckIncluded fails the test unless leafHash is the leaf at index and the log's tiles prove
// its inclusion in the tree's root.
func (t *CTTree) CheckIncluded(tb testing.TB, index uint64, leafHash []byte) {
	tb.Helper()
	if index >= t.Size {
		tb.Errorf("CT log entry %d is beyond the tree size %d", index, t.Size)
		return
	}
	if !bytes.Equal(t.Leaves[index], leafHash) {
		tb.Errorf("CT log entry %d has leaf hash %x, want %x", index, t.Leaves[index], leafHash)
		return
	}
	ctx := context.Background()
	pb, err := client.NewProofBuilder(ctx, t.Size, t.fetch)
	if err != nil {
		tb.Fatal(err)
	}
	p, err := pb.InclusionProof(ctx, index)
	if err != nil {
		tb.Errorf("inclusion proof of CT log entry %d: %v", index, err)
		return
	}
	if err := proof.VerifyInclusion(rfc6962.DefaultHasher, index, t.Size, leafHash, p, t.Root[:]); err != nil {
		tb.Errorf("CT log entry %d: %v", index, err)
	}
}

// CTLeafHash is the Merkle leaf hash of leaf in a static-ct-api log: leaf with the extensions
// of its SCT (which carry its leaf index).
func CTLeafHash(leaf *ct.MerkleTreeLeaf, sct *ct.SignedCertificateTimestamp) ([]byte, error) {
	l := *leaf
	te := *leaf.TimestampedEntry
	te.Extensions = sct.Extensions
	l.TimestampedEntry = &te
	raw, err := cttls.Marshal(l)
	if err != nil {
		return nil, fmt.Errorf("encoding the Merkle tree leaf: %w", err)
	}
	return rfc6962.DefaultHasher.HashLeaf(raw), nil
}

// CTLeafIndex is the leaf index an SCT of a static-ct-api log names (its extensions are one
// leaf_index extension: type 0, length 5, a 40-bit big-endian index).
func CTLeafIndex(sct *ct.SignedCertificateTimestamp) (uint64, error) {
	e := sct.Extensions
	if len(e) != 8 || e[0] != 0 || binary.BigEndian.Uint16(e[1:3]) != 5 {
		return 0, fmt.Errorf("SCT extensions %x are not one leaf_index", e)
	}
	var b [8]byte
	copy(b[3:], e[3:])
	return binary.BigEndian.Uint64(b[:]), nil
}
