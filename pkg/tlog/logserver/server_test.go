package logserver

import (
	"bytes"
	"context"
	"crypto"
	"crypto/elliptic"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	rekorv1 "github.com/sigstore/protobuf-specs/gen/pb-go/rekor/v1"
	"github.com/transparency-dev/tessera/client"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/cosign-like/cosign-like/pkg/tlog"
	"github.com/cosign-like/cosign-like/pkg/tlog/logclient"
)

func TestAppendAllAlgorithms(t *testing.T) {
	tl := newTestLog(t, nil)
	ctx := context.Background()
	signers := map[string]*testSigner{
		"ecdsa-p256":  newECDSASigner(t, elliptic.P256(), crypto.SHA256),
		"ecdsa-p384":  newECDSASigner(t, elliptic.P384(), crypto.SHA384),
		"ecdsa-p521":  newECDSASigner(t, elliptic.P521(), crypto.SHA512),
		"rsa-2048":    newRSASigner(t, 2048),
		"rsa-3072":    newRSASigner(t, 3072),
		"ed25519ph":   newEd25519Signer(t),
		"certificate": certSigner(t, "alice@example.com"),
	}
	seen := map[int64]bool{}
	for name, s := range signers {
		t.Run(name, func(t *testing.T) {
			req := s.request(t, []byte("artifact for "+name))
			tle, err := tl.client.Submit(ctx, req)
			if err != nil {
				t.Fatalf("Submit: %v", err)
			}
			want, _ := req.CanonicalBody()
			cp, err := tlog.VerifyEntry(tle, []tlog.LogKey{tl.key}, want)
			if err != nil {
				t.Fatalf("VerifyEntry: %v", err)
			}
			if cp.Origin != "127.0.0.1" {
				t.Errorf("origin %q, want the URL's hostname", cp.Origin)
			}
			if seen[tle.LogIndex] {
				t.Errorf("index %d given twice", tle.LogIndex)
			}
			seen[tle.LogIndex] = true
			if kv := tle.GetKindVersion(); kv.GetKind() != "hashedrekord" || kv.GetVersion() != "0.0.2" {
				t.Errorf("kindVersion %v", kv)
			}
			if !bytes.Equal(tle.GetLogId().GetKeyId(), tl.key.KeyID) {
				t.Errorf("logId %x, want checkpoint key ID %x", tle.GetLogId().GetKeyId(), tl.key.KeyID)
			}
			parsed, err := tlog.ParseHashedRekordEntry(tle.CanonicalizedBody)
			if err != nil || parsed.Verify() != nil || parsed.IsCertificate != s.cert {
				t.Errorf("entry does not parse back to a valid request: %v", err)
			}
			// The entry read back from the tiles is the same.
			back, err := tl.client.Entry(ctx, uint64(tle.LogIndex), cp)
			if err != nil || !bytes.Equal(back.CanonicalizedBody, want) {
				t.Errorf("reading entry %d back: %v", tle.LogIndex, err)
			}
		})
	}
	if _, err := logclient.CheckConsistency(ctx, tl.url, tl.key, t.TempDir()); err != nil {
		t.Fatalf("CheckConsistency: %v", err)
	}
}

// TestDuplicateEntry resubmits an entry, before and after a restart, on each backend.
func TestDuplicateEntry(t *testing.T) {
	forEachBackend(t, testDuplicateEntry)
}

func testDuplicateEntry(t *testing.T, storage string) {
	tl := newTestLog(t, withStorage(storage))
	ctx := context.Background()
	req := newECDSASigner(t, elliptic.P256(), crypto.SHA256).request(t, []byte("same"))
	first, err := tl.client.Submit(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := req.MarshalJSON()
	resp, err := http.Post(tl.url+"/api/v2/log/entries", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	msg, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusConflict || resp.Header.Get("X-Log-Index") != fmt.Sprint(first.LogIndex) ||
		!strings.Contains(string(msg), "already exists") {
		t.Fatalf("resubmission: %d %q index header %q", resp.StatusCode, msg, resp.Header.Get("X-Log-Index"))
	}
	again, err := tl.client.Submit(ctx, req)
	if err != nil {
		t.Fatalf("Submit of a duplicate: %v", err)
	}
	if again.LogIndex != first.LogIndex {
		t.Fatalf("duplicate answered with index %d, want %d", again.LogIndex, first.LogIndex)
	}
	if _, err := tlog.VerifyEntry(again, []tlog.LogKey{tl.key}, first.CanonicalizedBody); err != nil {
		t.Fatalf("duplicate entry does not verify: %v", err)
	}
	if !bytes.Equal(again.GetLogId().GetKeyId(), tl.key.KeyID) || again.GetKindVersion().GetVersion() != "0.0.2" {
		t.Fatalf("entry read back lacks its log ID or kind: %v", again)
	}
	// After a restart the de-duplication index is rebuilt from the entry bundles.
	if err := tl.stop(); err != nil {
		t.Fatal(err)
	}
	tl2 := startTestLog(t, tl.dir, withStorage(storage))
	again, err = tl2.client.Submit(ctx, req)
	if err != nil || again.LogIndex != first.LogIndex {
		t.Fatalf("after restart: %v, index %d want %d", err, again.GetLogIndex(), first.LogIndex)
	}
}

func TestCanonicalBodyMatchesRekorTiles(t *testing.T) {
	req := &tlog.HashedRekordRequest{Digest: []byte{1, 2, 3}, Signature: []byte{4, 5}, Verifier: []byte{6}, KeyDetails: 5}
	got, err := req.CanonicalBody()
	if err != nil {
		t.Fatal(err)
	}
	// protojson of the Entry message, then RFC 8785: keys sorted, no spaces.
	want := `{"apiVersion":"0.0.2","kind":"hashedrekord","spec":{"hashedRekordV002":{"data":{"algorithm":"SHA2_256","digest":"AQID"},` +
		`"signature":{"content":"BAU=","verifier":{"keyDetails":"PKIX_ECDSA_P256_SHA_256","publicKey":{"rawBytes":"Bg=="}}}}}}`
	if string(got) != want {
		t.Fatalf("canonical body\n got %s\nwant %s", got, want)
	}
	req.IsCertificate = true
	got, _ = req.CanonicalBody()
	if !strings.Contains(string(got), `"verifier":{"keyDetails":"PKIX_ECDSA_P256_SHA_256","x509Certificate":{"rawBytes":"Bg=="}}`) {
		t.Fatalf("certificate body %s", got)
	}
	body, _ := req.MarshalJSON()
	back, err := tlog.ParseCreateEntryRequest(body)
	if err != nil || !bytes.Equal(back.Digest, req.Digest) || !back.IsCertificate || back.KeyDetails != req.KeyDetails {
		t.Fatalf("request round trip: %v %+v", err, back)
	}
}

func postRaw(t *testing.T, url string, body []byte) (int, string) {
	t.Helper()
	resp, err := http.Post(url+"/api/v2/log/entries", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestBadInput(t *testing.T) {
	tl := newTestLog(t, func(c *Options) { c.MaxBodySize = 200 << 10 })
	ec := newECDSASigner(t, elliptic.P256(), crypto.SHA256)
	good := ec.request(t, []byte("a"))
	other := ec.request(t, []byte("b"))
	enc := func(r *tlog.HashedRekordRequest) []byte { b, _ := r.MarshalJSON(); return b }
	b64 := base64.StdEncoding.EncodeToString
	mutate := func(f func(r *tlog.HashedRekordRequest)) []byte {
		c := *good
		f(&c)
		return enc(&c)
	}
	rsa1024 := newRSASigner(t, 1024)
	pureEd := newEd25519Signer(t)
	expectRefusals(t, tl, []refusal{
		{"malformed JSON", []byte(`{"hashedRekordRequestV002": {`), 400, "unexpected end of JSON"},
		{"not an object", []byte(`[1,2]`), 400, "want a JSON object, got an array"},
		{"empty body", nil, 400, "empty request"},
		{"empty object", []byte(`{}`), 400, "missing hashedRekordRequestV002"},
		{"unknown kind", []byte(`{"rekordRequestV001": {}}`), 400, `unknown field "rekordRequestV001"`},
		{"both kinds", []byte(`{"dsseRequestV002": {}, "hashedRekordRequestV002": {}}`), 400, "both hashedRekordRequestV002 and dsseRequestV002"},
		{"unknown field", []byte(`{"hashedRekordRequestV002": {"digest": "AA==", "extra": 1}}`), 400, `unknown field "extra"`},
		{"nested 10^5", []byte(strings.Repeat("[", 100000) + strings.Repeat("]", 100000)), 400, "exceeded max depth"},
		{"oversized", append([]byte(`{"x":"`), bytes.Repeat([]byte("a"), 300<<10)...), 413, "exceeds"},
		{"empty digest", mutate(func(r *tlog.HashedRekordRequest) { r.Digest = nil }), 400, "missing digest"},
		{"empty signature", mutate(func(r *tlog.HashedRekordRequest) { r.Signature = nil }), 400, "missing signature content"},
		{"empty verifier", mutate(func(r *tlog.HashedRekordRequest) { r.Verifier = nil }), 400, "missing verifier"},
		{"missing key details", mutate(func(r *tlog.HashedRekordRequest) { r.KeyDetails = 0 }), 400, "missing keyDetails"},
		{"no signature object", []byte(`{"hashedRekordRequestV002": {"digest": "AA=="}}`), 400, "missing signature"},
		{"no verifier object", []byte(`{"hashedRekordRequestV002": {"digest": "AA==", "signature": {"content": "AA=="}}}`), 400, "missing signature.verifier"},
		{"bad base64", []byte(`{"hashedRekordRequestV002": {"digest": "!!"}}`), 400, "bad base64"},
		{"wrong signature", mutate(func(r *tlog.HashedRekordRequest) { r.Signature = other.Signature }), 400, "signature does not verify"},
		{"wrong digest", mutate(func(r *tlog.HashedRekordRequest) { r.Digest = other.Digest }), 400, "signature does not verify"},
		{"short digest", mutate(func(r *tlog.HashedRekordRequest) { r.Digest = r.Digest[:20] }), 400, "digest is 20 bytes"},
		{"garbage key", mutate(func(r *tlog.HashedRekordRequest) { r.Verifier = []byte("not a key") }), 400, "parsing public key"},
		{"key as certificate", mutate(func(r *tlog.HashedRekordRequest) { r.IsCertificate = true }), 400, "parsing certificate"},
		{"wrong key type for details", mutate(func(r *tlog.HashedRekordRequest) { r.KeyDetails = 9 }), 400, "does not match the key"},
		{"PSS", mutate(func(r *tlog.HashedRekordRequest) { r.KeyDetails = 16 }), 400, "PKIX_RSA_PSS_2048_SHA256 is not accepted"},
		{"pure Ed25519", mutate(func(r *tlog.HashedRekordRequest) { r.Verifier = pureEd.der; r.KeyDetails = 7 }), 400, "PKIX_ED25519 is not accepted"},
		{"RSA 1024", mutate(func(r *tlog.HashedRekordRequest) { r.Verifier = rsa1024.der; r.KeyDetails = 9 }), 400, "RSA key of 1024 bits"},
		{"unknown key details", []byte(`{"hashedRekordRequestV002": {"digest": "AA==", "signature": {"content": "AA==", "verifier": {"publicKey": {"rawBytes": "` + b64(ec.der) + `"}, "keyDetails": "NOPE"}}}}`), 400, `unknown value "NOPE"`},
	})
}

// refusal is a create-entry request the log must refuse, with the status and a part of the
// error message it must answer.
type refusal struct {
	name   string
	body   []byte
	status int
	msg    string
}

// expectRefusals posts each request to an empty log, checks its answer, and then that the log
// is still healthy and took nothing.
func expectRefusals(t *testing.T, tl *testLog, tests []refusal) {
	t.Helper()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, msg := postRaw(t, tl.url, tc.body)
			var e tlog.ErrorBody
			if err := json.Unmarshal([]byte(msg), &e); err != nil || e.Message == "" {
				t.Fatalf("error answer is not JSON with a message: %s", msg)
			}
			if status != tc.status || !strings.Contains(e.Message, tc.msg) {
				t.Fatalf("got %d %s, want %d mentioning %q", status, e.Message, tc.status, tc.msg)
			}
		})
	}
	cp, err := tl.client.Checkpoint(context.Background(), []tlog.LogKey{tl.key})
	if err != nil || cp.Size != 0 {
		t.Fatalf("after bad input: %v, size %d", err, cpSize(cp))
	}
}

func TestMarshalEntryMatchesProtojson(t *testing.T) {
	tl := newTestLog(t, nil)
	for _, n := range []int{1, 2, 5} {
		appendN(t, tl, newECDSASigner(t, elliptic.P256(), crypto.SHA256), fmt.Sprint("m", n), n)
	}
	tle, err := tl.client.Submit(context.Background(), newECDSASigner(t, elliptic.P256(), crypto.SHA256).request(t, []byte("x")))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range []*rekorv1.TransparencyLogEntry{tle, {LogIndex: 0, LogId: tle.LogId, KindVersion: tle.KindVersion,
		InclusionProof:    &rekorv1.InclusionProof{RootHash: tle.InclusionProof.RootHash, TreeSize: 1, Checkpoint: tle.InclusionProof.Checkpoint},
		CanonicalizedBody: tle.CanonicalizedBody}} {
		ours, err := marshalEntry(e)
		if err != nil {
			t.Fatal(err)
		}
		var back rekorv1.TransparencyLogEntry
		if err := protojson.Unmarshal(ours, &back); err != nil {
			t.Fatalf("protojson rejects %s: %v", ours, err)
		}
		if !proto.Equal(&back, e) {
			t.Fatalf("round trip differs:\n%s", ours)
		}
	}
}

func TestTileCovered(t *testing.T) {
	tests := []struct {
		size, level, index uint64
		p                  uint8
		want               bool
	}{
		{300, 0, 0, 0, true}, {300, 0, 1, 44, true}, {300, 0, 1, 45, false}, {300, 0, 1, 0, false},
		{300, 1, 0, 1, true}, {300, 1, 0, 2, false}, {65536, 1, 0, 0, true}, {65535, 1, 0, 0, false},
		{0, 0, 0, 1, false}, {1 << 40, 7, 0, 0, false}, {^uint64(0), 0, ^uint64(0) >> 8, 255, true},
		{^uint64(0), 63, 0, 1, false}, {10, 0, ^uint64(0), 1, false},
	}
	for _, tc := range tests {
		if got := tileCovered(tc.size, tc.level, tc.index, tc.p); got != tc.want {
			t.Errorf("tileCovered(%d, %d, %d, %d) = %v", tc.size, tc.level, tc.index, tc.p, got)
		}
	}
}

func cpSize(c *tlog.Checkpoint) uint64 {
	if c == nil {
		return 0
	}
	return c.Size
}

func TestReadAPI(t *testing.T) {
	tl := newTestLog(t, nil)
	ctx := context.Background()
	ec := newECDSASigner(t, elliptic.P256(), crypto.SHA256)
	var wg sync.WaitGroup
	for i := range 300 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := tl.client.Submit(ctx, ec.request(t, []byte(fmt.Sprint("entry ", i)))); err != nil {
				t.Errorf("Submit: %v", err)
			}
		}()
	}
	wg.Wait()
	cp, err := tl.client.Checkpoint(ctx, []tlog.LogKey{tl.key})
	if err != nil || cp.Size != 300 {
		t.Fatalf("checkpoint: %v size %d", err, cpSize(cp))
	}
	tests := []struct {
		path, cache string
		status      int
	}{
		{"/api/v2/checkpoint", "no-cache", 200},
		{"/api/v2/tile/0/000", "public, max-age=31536000, immutable", 200},
		{"/api/v2/tile/0/001.p/44", "public, max-age=31536000, immutable", 200},
		{"/api/v2/tile/1/000.p/1", "public, max-age=31536000, immutable", 200},
		{"/api/v2/tile/entries/000", "public, max-age=31536000, immutable", 200},
		{"/api/v2/tile/entries/001.p/44", "public, max-age=31536000, immutable", 200},
		{"/api/v2/tile/0/x001/000", "no-store", 404},
		{"/api/v2/tile/0/001.p/45", "no-store", 404},
		{"/api/v2/tile/entries/001", "no-store", 404},
		{"/api/v2/tile/1/000", "no-store", 404},
		{"/api/v2/tile/0/1", "no-store", 400},
		{"/api/v2/tile/99/000", "no-store", 400},
		{"/api/v2/tile/entries/../../etc/passwd", "", 0},
		{"/healthz", "no-store", 200},
	}
	for _, tc := range tests {
		resp, err := http.Get(tl.url + tc.path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if tc.status == 0 {
			if resp.StatusCode == 200 {
				t.Errorf("%s served %q", tc.path, b)
			}
			continue
		}
		if resp.StatusCode != tc.status || resp.Header.Get("Cache-Control") != tc.cache {
			t.Errorf("%s: %d %q, want %d %q", tc.path, resp.StatusCode, resp.Header.Get("Cache-Control"), tc.status, tc.cache)
		}
	}
	resp, err := http.Get(tl.url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	m, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{`tlog_add_entry_requests_total{outcome="created"} 300`, "tlog_tree_size 300", "tlog_add_entry_latency_seconds_bucket"} {
		if !strings.Contains(string(m), want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	// Every entry is provable from the tiles against the verified checkpoint.
	for i := uint64(0); i < cp.Size; i += 37 {
		tle, err := tl.client.Entry(ctx, i, cp)
		if err != nil {
			t.Fatalf("entry %d: %v", i, err)
		}
		if _, err := tlog.VerifyEntry(tle, []tlog.LogKey{tl.key}, nil); err != nil {
			t.Fatalf("entry %d: %v", i, err)
		}
	}
	// The server's memoizing proof source agrees with Tessera's proof builder on every leaf.
	nodes := newTreeNodes(cp.Size, tl.client.ReadTile)
	pb, err := client.NewProofBuilder(ctx, cp.Size, tl.client.ReadTile)
	if err != nil {
		t.Fatal(err)
	}
	for i := uint64(0); i < cp.Size; i++ {
		got, err1 := nodes.inclusion(ctx, i)
		want, err2 := pb.InclusionProof(ctx, i)
		if err1 != nil || err2 != nil || !slices.EqualFunc(got, want, bytes.Equal) {
			t.Fatalf("proof of %d differs: %v %v", i, err1, err2)
		}
	}
	if _, err := tl.client.Entry(ctx, cp.Size, cp); !errors.Is(err, logclient.ErrEntryNotFound) {
		t.Fatalf("entry beyond the tree: %v", err)
	}
}

// TestRekorTilesClientExample feeds the request form of rekor-tiles' client guide (proto field
// names mixed with JSON names, a signature made with openssl) and checks the entry it becomes.
func TestRekorTilesClientExample(t *testing.T) {
	const (
		digest = "dyj4ednYHjN4/zsjjBeeLahS9slp97Z67LTAVxjrjXw="
		sig    = "MEQCIB+YPa9o3SN0sQ4uduGf+mZxwFfOhFZ0Cgy+p7Vt1o2SAiAPFDHqOAJLYmvtCWOsDyNY1H4V3zm4NEDYs3NyvHh1Pg=="
		key    = "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE2slOf8eZcj2moW2t4UFj7vCL6QpDzkDqqSUmm4OJCVvIauKLxm0aGs3VMPPfauMPaMutn0/s3jg0rroFxoicyg=="
	)
	body := `{ "hashedRekordRequestV002":{ "digest":"` + digest + `", "signature":{ "content": "` + sig +
		`", "verifier": { "key_details": "PKIX_ECDSA_P256_SHA_256", "public_key": { "raw_bytes": "` + key + `" } } } } }`
	req, err := tlog.ParseCreateEntryRequest([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	if err := req.Verify(); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	got, err := req.CanonicalBody()
	if err != nil {
		t.Fatal(err)
	}
	want := `{"apiVersion":"0.0.2","kind":"hashedrekord","spec":{"hashedRekordV002":{"data":{"algorithm":"SHA2_256","digest":"` + digest +
		`"},"signature":{"content":"` + sig + `","verifier":{"keyDetails":"PKIX_ECDSA_P256_SHA_256","publicKey":{"rawBytes":"` + key + `"}}}}}}`
	if string(got) != want {
		t.Fatalf("entry\n got %s\nwant %s", got, want)
	}
	tl := newTestLog(t, nil)
	status, msg := postRaw(t, tl.url, []byte(body))
	if status != http.StatusCreated {
		t.Fatalf("log refused the example: %d %s", status, msg)
	}
}

func TestParseHashedRekordEntryErrors(t *testing.T) {
	tests := []struct{ body, want string }{
		{`{"apiVersion":"0.0.2","kind":"hashedrekord"}`, "missing spec.hashedRekordV002"},
		{`{"apiVersion":"0.0.1","kind":"hashedrekord"}`, `version "0.0.1"`},
		{`{"apiVersion":"0.0.2","kind":"dsse","spec":{}}`, `kind "dsse"`},
		{`{"apiVersion":"0.0.2","kind":"hashedrekord","spec":{"hashedRekordV002":{"data":{"algorithm":"SHA2_384","digest":"AA=="},"signature":{"content":"AA==","verifier":{"keyDetails":"PKIX_ECDSA_P256_SHA_256","publicKey":{"rawBytes":"AA=="}}}}}}`, "does not match keyDetails"},
		{`{"apiVersion":"0.0.2","kind":"hashedrekord","spec":{"hashedRekordV002":{"data":[],"signature":{}}}}`, "want a JSON object, got an array"},
		{`{"apiVersion":2}`, "want a string, got a number"},
		{``, "empty entry"},
	}
	for _, tc := range tests {
		_, err := tlog.ParseHashedRekordEntry([]byte(tc.body))
		if !errors.Is(err, tlog.ErrInvalidRequest) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want %q", tc.body, err, tc.want)
		}
	}
}

// TestClientFallsBackToFullTiles reads through a proxy that has dropped the partial tiles and
// bundles whose full versions exist (as a log may, once they do): proofs in older trees still
// work.
func TestClientFallsBackToFullTiles(t *testing.T) {
	tl := newTestLog(t, nil)
	ctx := context.Background()
	s := newECDSASigner(t, elliptic.P256(), crypto.SHA256)
	appendN(t, tl, s, "early", 100)
	old, err := tl.client.Checkpoint(ctx, []tlog.LogKey{tl.key})
	if err != nil {
		t.Fatal(err)
	}
	appendN(t, tl, s, "late", 160)
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/api/v2/tile/0/000.p/") || strings.HasPrefix(r.URL.Path, "/api/v2/tile/entries/000.p/") {
			http.NotFound(w, r)
			return
		}
		tl.srv.Handler().ServeHTTP(w, r)
	}))
	defer proxy.Close()
	c, err := logclient.NewClient(proxy.URL)
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range []uint64{0, 57, 99} {
		tle, err := c.Entry(ctx, i, old)
		if err != nil {
			t.Fatalf("entry %d in the older tree: %v", i, err)
		}
		if _, err := tlog.VerifyEntry(tle, []tlog.LogKey{tl.key}, nil); err != nil {
			t.Fatal(err)
		}
	}
	cur, err := c.Checkpoint(ctx, []tlog.LogKey{tl.key})
	if err != nil {
		t.Fatal(err)
	}
	p, err := c.ConsistencyProof(ctx, old.Size, cur.Size)
	if err == nil {
		err = tlog.VerifyConsistency(old.Size, cur.Size, p, old.Hash, cur.Hash)
	}
	if err != nil {
		t.Fatalf("consistency through full tiles: %v", err)
	}
}
