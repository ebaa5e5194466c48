package logserver

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	trustrootv1 "github.com/sigstore/protobuf-specs/gen/pb-go/trustroot/v1"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/cosign-like/cosign-like/internal/testutil"

	"github.com/cosign-like/cosign-like/pkg/tlog"
	"github.com/cosign-like/cosign-like/pkg/tlog/logclient"
	"github.com/cosign-like/cosign-like/pkg/tlog/rekortypes"
)

// v1Fixture is a log served on 127.0.0.1 with a Rekor v1 client and the v1 key.
type v1Fixture struct {
	*testLog
	v1     *logclient.V1Client
	key    tlog.LogKey
	treeID int64
}

func newV1Fixture(t testing.TB, mutate func(*Options)) *v1Fixture {
	t.Helper()
	tl := newTestLog(t, mutate)
	return v1FixtureOf(t, tl)
}

func v1FixtureOf(t testing.TB, tl *testLog) *v1Fixture {
	t.Helper()
	c, err := logclient.NewV1Client(tl.url)
	if err != nil {
		t.Fatal(err)
	}
	key, treeID, err := LoadV1LogKey(tl.dir)
	if err != nil {
		t.Fatal(err)
	}
	return &v1Fixture{testLog: tl, v1: c, key: key, treeID: treeID}
}

// hashedRekord signs artifact with s and builds a hashedrekord proposed entry.
func (s *testSigner) hashedRekord(t testing.TB, artifact []byte) []byte {
	t.Helper()
	d := sha256.Sum256(artifact)
	sig := s.sign(t, d[:])
	typ := "PUBLIC KEY"
	if s.cert {
		typ = "CERTIFICATE"
	}
	p, err := rekortypes.ProposeHashedRekord(d[:], sig, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: s.der}))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func (f *v1Fixture) upload(t testing.TB, proposed []byte) *logclient.V1Entry {
	t.Helper()
	e, err := f.v1.Upload(context.Background(), proposed)
	if err != nil {
		t.Fatalf("Upload: %v", err)
	}
	if _, err := logclient.VerifyV1Entry(e, []tlog.LogKey{f.key}); err != nil {
		t.Fatalf("VerifyV1Entry: %v", err)
	}
	return e
}

func (f *v1Fixture) size(t testing.TB) int64 {
	t.Helper()
	info, err := f.v1.LogInfo(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return info.TreeSize
}

// post sends a raw request to the v1 API and returns the status and error body.
func (f *v1Fixture) post(t testing.TB, path string, body io.Reader) (int, http.Header, tlog.ErrorBody) {
	t.Helper()
	resp, err := http.Post(f.url+path, "application/json", body)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var e tlog.ErrorBody
	b, _ := io.ReadAll(resp.Body)
	_ = json.Unmarshal(b, &e)
	return resp.StatusCode, resp.Header, e
}

func TestV1AppendAndRead(t *testing.T) {
	f := newV1Fixture(t, nil)
	ctx := context.Background()
	s := newECDSASigner(t, elliptic.P256(), crypto.SHA256)
	proposed := s.hashedRekord(t, []byte("artifact one"))

	resp, err := http.Post(f.url+"/api/v1/log/entries", "application/json", bytes.NewReader(proposed))
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST: %s %s", resp.Status, raw)
	}
	var m map[string]tlog.V1LogEntry
	if err := json.Unmarshal(raw, &m); err != nil || len(m) != 1 {
		t.Fatalf("answer %s: %v", raw, err)
	}
	var uuid string
	var e tlog.V1LogEntry
	for uuid, e = range m {
	}
	if resp.Header.Get("ETag") != uuid || resp.Header.Get("Location") != "/api/v1/log/entries/"+uuid {
		t.Errorf("ETag %q, Location %q; want the UUID %s", resp.Header.Get("ETag"), resp.Header.Get("Location"), uuid)
	}
	if want := fmt.Sprintf("%016x", f.treeID); len(uuid) != 80 || !strings.HasPrefix(uuid, want) {
		t.Errorf("UUID %s: want 80 hex digits beginning with the tree ID %s", uuid, want)
	}
	// The SET: ECDSA ASN.1 under the PKIX key over the RFC 8785 JSON of the four fields.
	der, _ := x509.MarshalPKIXPublicKey(f.key.PublicKey)
	id := sha256.Sum256(der)
	if e.LogID != hex.EncodeToString(id[:]) {
		t.Errorf("logID %s, want SHA-256 of the PKIX key %x", e.LogID, id)
	}
	payload := fmt.Sprintf(`{"body":"%s","integratedTime":%d,"logID":"%s","logIndex":%d}`, e.Body, e.IntegratedTime, e.LogID, e.LogIndex)
	d := sha256.Sum256([]byte(payload))
	if !ecdsa.VerifyASN1(f.key.PublicKey.(*ecdsa.PublicKey), d[:], e.Verification.SignedEntryTimestamp) {
		t.Error("signed entry timestamp does not verify over the canonical payload")
	}
	cp := e.Verification.InclusionProof.Checkpoint
	if want := fmt.Sprintf("127.0.0.1 - %d\n", f.treeID); !strings.HasPrefix(cp, want) {
		t.Errorf("checkpoint %q: want origin line %q", cp, want)
	}
	if n := strings.Count(cp, "\u2014 "); n != 1 || !strings.Contains(cp, "\n\n\u2014 127.0.0.1 ") {
		t.Errorf("checkpoint %q: want exactly one signature line, by 127.0.0.1", cp)
	}
	entry := &logclient.V1Entry{UUID: uuid, Entry: e}
	if _, err := logclient.VerifyV1Entry(entry, []tlog.LogKey{f.key}); err != nil {
		t.Fatal(err)
	}

	// Reads: by UUID (both forms), by index, retrieve; each verifies and has the same time.
	byUUID, err := f.v1.GetByUUID(ctx, uuid)
	if err != nil {
		t.Fatal(err)
	}
	short, err := f.v1.GetByUUID(ctx, uuid[16:])
	if err != nil {
		t.Fatal(err)
	}
	byIndex, err := f.v1.GetByIndex(ctx, e.LogIndex)
	if err != nil {
		t.Fatal(err)
	}
	got, err := f.v1.Retrieve(ctx, tlog.V1SearchLogQuery{EntryUUIDs: []string{uuid}, LogIndexes: []int64{e.LogIndex, 99}, Entries: []tlog.RawJSON{proposed}})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 {
		t.Fatalf("retrieve: %d entries, want 3 (index 99 is absent)", len(got))
	}
	for _, r := range append([]logclient.V1Entry{*byUUID, *short, *byIndex}, got...) {
		if r.UUID != uuid || r.Entry.IntegratedTime != e.IntegratedTime || r.Entry.Body != e.Body {
			t.Errorf("read %s at %d, want %s at %d", r.UUID, r.Entry.IntegratedTime, uuid, e.IntegratedTime)
		}
		if _, err := logclient.VerifyV1Entry(&r, []tlog.LogKey{f.key}); err != nil {
			t.Error(err)
		}
	}

	// Duplicate: 409 with Location, nothing appended.
	_, err = f.v1.Upload(ctx, proposed)
	var ce *logclient.V1ConflictError
	if !errors.As(err, &ce) || ce.UUID != uuid || !strings.Contains(ce.Message, uuid) {
		t.Fatalf("duplicate upload: %v; want a conflict naming %s", err, uuid)
	}
	if n := f.size(t); n != 1 {
		t.Errorf("tree size %d after a duplicate, want 1", n)
	}

	// Public key, consistency proof.
	pemKey, err := f.v1.PublicKey(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := pem.Decode(pemKey); b == nil || !bytes.Equal(b.Bytes, der) {
		t.Errorf("public key %s is not the v1 key", pemKey)
	}
	second := f.upload(t, s.hashedRekord(t, []byte("artifact two")))
	f.upload(t, s.hashedRekord(t, []byte("artifact three")))
	p, err := f.v1.ConsistencyProof(ctx, 2, 3)
	if err != nil {
		t.Fatal(err)
	}
	root2, _ := hex.DecodeString(second.Entry.Verification.InclusionProof.RootHash)
	root3, _ := hex.DecodeString(p.RootHash)
	var hashes [][]byte
	for _, h := range p.Hashes {
		b, _ := hex.DecodeString(h)
		hashes = append(hashes, b)
	}
	if err := tlog.VerifyConsistency(2, 3, hashes, root2, root3); err != nil {
		t.Errorf("consistency proof 2→3: %v", err)
	}
	// The v2 tree is separate: nothing was appended to it.
	if cp, err := f.client.ReadCheckpoint(ctx); err != nil || !bytes.Contains(cp, []byte("\n0\n")) {
		t.Errorf("v2 checkpoint %q (%v): want an empty tree", cp, err)
	}
}

func TestV1SearchIndex(t *testing.T) {
	f := newV1Fixture(t, nil)
	ctx := context.Background()
	alice, bob := certSigner(t, "Alice@example.com"), certSigner(t, "bob@example.com")
	aliceKey := newECDSASigner(t, elliptic.P256(), crypto.SHA256)
	a1 := f.upload(t, alice.hashedRekord(t, []byte("shared")))
	b1 := f.upload(t, bob.hashedRekord(t, []byte("shared")))
	a2 := f.upload(t, alice.hashedRekord(t, []byte("only alice")))
	k1 := f.upload(t, aliceKey.hashedRekord(t, []byte("by key")))
	shared := sha256.Sum256([]byte("shared"))
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: aliceKey.der})

	for _, c := range []struct {
		name string
		q    tlog.V1SearchIndex
		want []string
	}{
		{"hash", tlog.V1SearchIndex{Hash: "sha256:" + hex.EncodeToString(shared[:])}, []string{a1.UUID, b1.UUID}},
		{"bare hash", tlog.V1SearchIndex{Hash: hex.EncodeToString(shared[:])}, []string{a1.UUID, b1.UUID}},
		{"email (any case)", tlog.V1SearchIndex{Email: "alice@EXAMPLE.com"}, []string{a1.UUID, a2.UUID}},
		{"public key", tlog.V1SearchIndex{PublicKey: &tlog.V1SearchPublicKey{Format: "x509", Content: keyPEM}}, []string{k1.UUID}},
		{"and", tlog.V1SearchIndex{Email: "alice@example.com", Hash: hex.EncodeToString(shared[:]), Operator: "and"}, []string{a1.UUID}},
		{"or", tlog.V1SearchIndex{Email: "bob@example.com", PublicKey: &tlog.V1SearchPublicKey{Format: "x509", Content: keyPEM}, Operator: "or"}, []string{b1.UUID, k1.UUID}},
		{"no match", tlog.V1SearchIndex{Email: "carol@example.com"}, []string{}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := f.v1.SearchIndex(ctx, c.q)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(got, ",") != strings.Join(c.want, ",") {
				t.Errorf("got %v, want %v", got, c.want)
			}
		})
	}
}

func TestV1Refusals(t *testing.T) {
	f := newV1Fixture(t, nil)
	s := newECDSASigner(t, elliptic.P256(), crypto.SHA256)
	good := s.hashedRekord(t, []byte("good"))
	other := s.hashedRekord(t, []byte("other"))
	// A signature over another artifact: swap the data hash.
	var goodDoc, otherDoc map[string]any
	_ = json.Unmarshal(good, &goodDoc)
	_ = json.Unmarshal(other, &otherDoc)
	goodDoc["spec"].(map[string]any)["data"] = otherDoc["spec"].(map[string]any)["data"]
	badSig, _ := json.Marshal(goodDoc)
	withURL := bytes.Replace(good, []byte(`"data":{`), []byte(`"data":{"url":"http://127.0.0.1:1/x",`), 1)

	for _, c := range []struct {
		name   string
		path   string
		body   io.Reader
		status int
		msg    string
	}{
		{"bad signature", "/api/v1/log/entries", bytes.NewReader(badSig), 400, "verif"},
		{"URL field", "/api/v1/log/entries", bytes.NewReader(withURL), 400, "url"},
		{"unknown kind", "/api/v1/log/entries", strings.NewReader(`{"kind":"rpm","apiVersion":"0.0.1","spec":{}}`), 400, "unknown kind"},
		{"malformed JSON", "/api/v1/log/entries", strings.NewReader(`{"kind":`), 400, "error processing entry"},
		{"100 MB body", "/api/v1/log/entries", io.LimitReader(zeros{}, 100<<20), 413, "exceeds"},
		{"retrieve: 11 items", "/api/v1/log/entries/retrieve", strings.NewReader(`{"logIndexes":[0,1,2,3,4,5,6,7,8,9,10]}`), 422, "max allowed 10"},
		{"retrieve: bad UUID", "/api/v1/log/entries/retrieve", strings.NewReader(`{"entryUUIDs":["xyz"]}`), 400, "entry UUID"},
		{"retrieve: negative index", "/api/v1/log/entries/retrieve", strings.NewReader(`{"logIndexes":[-1]}`), 400, "below 0"},
		{"retrieve: unknown field", "/api/v1/log/entries/retrieve", strings.NewReader(`{"uuids":[]}`), 400, "unknown field"},
		{"search: bad hash", "/api/v1/index/retrieve", strings.NewReader(`{"hash":"sha256:zz"}`), 400, "hash"},
		{"search: bad operator", "/api/v1/index/retrieve", strings.NewReader(`{"email":"a@b.c","operator":"xor"}`), 400, "operator"},
		{"search: bad key format", "/api/v1/index/retrieve", strings.NewReader(`{"publicKey":{"format":"tuf","content":"AA=="}}`), 400, "format"},
		{"search: bad key", "/api/v1/index/retrieve", strings.NewReader(`{"publicKey":{"format":"x509","content":"AA=="}}`), 400, "publicKey"},
		{"search: bad email", "/api/v1/index/retrieve", strings.NewReader(`{"email":"nobody"}`), 400, "email"},
	} {
		t.Run(c.name, func(t *testing.T) {
			status, _, e := f.post(t, c.path, c.body)
			if status != c.status || e.Code != c.status || !strings.Contains(strings.ToLower(e.Message), strings.ToLower(c.msg)) {
				t.Errorf("got %d %+v; want %d with a message containing %q", status, e, c.status, c.msg)
			}
		})
	}
	if n := f.size(t); n != 0 {
		t.Errorf("tree size %d after refusals, want 0", n)
	}
	for _, c := range []struct {
		path   string
		status int
		msg    string
	}{
		{"/api/v1/log/entries?logIndex=-1", 400, "logIndex"},
		{"/api/v1/log/entries?logIndex=0", 404, "beyond"},
		{"/api/v1/log/entries/abc", 400, "64 hex"},
		{"/api/v1/log/entries/" + strings.Repeat("0", 64), 404, "no entry"},
		{"/api/v1/log/entries/" + strings.Repeat("0", 15) + "1" + strings.Repeat("0", 64), 404, "tree ID"},
		{"/api/v1/log/proof?lastSize=0", 400, "lastSize"},
		{"/api/v1/log/proof?firstSize=3&lastSize=2", 400, "must be less"},
		{"/api/v1/log/proof?lastSize=5", 400, "greater than what is currently observable"},
		{"/api/v1/log/publicKey?treeID=x", 400, "treeID"},
		{"/api/v1/log/publicKey?treeID=1", 404, "not served"},
	} {
		resp, err := http.Get(f.url + c.path)
		if err != nil {
			t.Fatal(err)
		}
		var e tlog.ErrorBody
		_ = json.NewDecoder(resp.Body).Decode(&e)
		resp.Body.Close()
		if resp.StatusCode != c.status || !strings.Contains(e.Message, c.msg) {
			t.Errorf("GET %s: %d %+v; want %d with %q", c.path, resp.StatusCode, e, c.status, c.msg)
		}
	}
}

// zeros is an endless reader of zero bytes.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// A log directory written before the v1 API existed (no v1 key, no tree ID) gets them on Open,
// and its trusted root then lists the v1 key beside the Ed25519 one.
func TestV1UpgradeOfOlderLogDir(t *testing.T) {
	dir := testutil.StorageDir(t)
	if err := Init(context.Background(), dir, InitOptions{URL: "http://127.0.0.1:3003"}); err != nil {
		t.Fatal(err)
	}
	cfg, err := LoadConfig(dir)
	if err != nil {
		t.Fatal(err)
	}
	cfg.TreeID, cfg.V1LogID = 0, ""
	b, _ := json.Marshal(cfg)
	var tr trustrootv1.TrustedRoot
	raw, _ := os.ReadFile(filepath.Join(dir, TrustedRootFile))
	if err := protojson.Unmarshal(raw, &tr); err != nil {
		t.Fatal(err)
	}
	tr.Tlogs = tr.Tlogs[:1]
	old, _ := protojson.Marshal(&tr)
	for name, data := range map[string][]byte{ConfigFile: b, TrustedRootFile: old} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range []string{V1PrivateKeyFile, V1PublicKeyFile} {
		if err := os.Remove(filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	f := v1FixtureOf(t, startTestLog(t, dir, nil))
	s := newECDSASigner(t, elliptic.P256(), crypto.SHA256)
	f.upload(t, s.hashedRekord(t, []byte("after upgrade")))
	cfg, err = LoadConfig(dir)
	if err != nil || cfg.TreeID != f.treeID || cfg.V1LogID != hex.EncodeToString(f.key.KeyID) {
		t.Fatalf("config after upgrade: %+v (%v); want tree ID %d and log ID %x", cfg, err, f.treeID, f.key.KeyID)
	}
	raw, _ = os.ReadFile(filepath.Join(dir, TrustedRootFile))
	if err := protojson.Unmarshal(raw, &tr); err != nil {
		t.Fatal(err)
	}
	if len(tr.Tlogs) != 2 || !bytes.Equal(tr.Tlogs[1].GetLogId().GetKeyId(), f.key.KeyID) {
		t.Errorf("trusted root after upgrade lists %d logs; want the Ed25519 one and the v1 key %x", len(tr.Tlogs), f.key.KeyID)
	}
}

// log reindex rebuilds the index from the tree: integrated times recorded are kept; with the
// index file gone, entries are found by UUID and search again.
func TestV1Reindex(t *testing.T) {
	dir, entries := v1EntriesThenStop(t, "", "reindex@example.com", 3)
	ctx := context.Background()
	if n, err := Reindex(ctx, dir, Options{}); err != nil || n != 3 {
		t.Fatalf("Reindex: %d, %v; want 3 entries", n, err)
	}
	f := v1FixtureOf(t, startTestLog(t, dir, nil))
	for _, e := range entries {
		got, err := f.v1.GetByUUID(ctx, e.UUID)
		if err != nil || got.Entry.IntegratedTime != e.Entry.IntegratedTime {
			t.Fatalf("after reindex: %v, %v; want %s with its integrated time %d", got, err, e.UUID, e.Entry.IntegratedTime)
		}
	}
	// The index is locked while the log is served: reindex refuses rather than race it.
	if _, err := Reindex(ctx, dir, Options{}); err == nil || !strings.Contains(err.Error(), "v1 index") {
		t.Errorf("Reindex while served: %v; want a refusal naming the v1 index", err)
	}
	if err := f.stop(); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(dir, V1IndexFile)); err != nil {
		t.Fatal(err)
	}
	if _, err := Reindex(ctx, dir, Options{}); err != nil {
		t.Fatal(err)
	}
	f = v1FixtureOf(t, startTestLog(t, dir, nil))
	found, err := f.v1.SearchIndex(ctx, tlog.V1SearchIndex{Email: "reindex@example.com"})
	if err != nil || len(found) != 3 {
		t.Fatalf("search after rebuilding the index from the tree: %v, %v; want 3 entries", found, err)
	}
	for _, e := range entries {
		got, err := f.v1.GetByUUID(ctx, e.UUID)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := logclient.VerifyV1Entry(got, []tlog.LogKey{f.key}); err != nil {
			t.Error(err)
		}
	}
}

// v1EntriesThenStop serves a new log on storage, uploads n entries signed for email, stops the
// log and returns its directory and the entries.
func v1EntriesThenStop(t *testing.T, storage, email string, n int) (string, []*logclient.V1Entry) {
	t.Helper()
	dir := testutil.StorageDir(t)
	if err := Init(context.Background(), dir, InitOptions{URL: "http://127.0.0.1:3003"}); err != nil {
		t.Fatal(err)
	}
	f := v1FixtureOf(t, startTestLog(t, dir, withStorage(storage)))
	s := certSigner(t, email)
	var entries []*logclient.V1Entry
	for i := range n {
		entries = append(entries, f.upload(t, s.hashedRekord(t, fmt.Appendf(nil, "%s %d", email, i))))
	}
	if err := f.stop(); err != nil {
		t.Fatal(err)
	}
	return dir, entries
}

// Every way a v1 entry can fail verification, each on a real entry with one thing changed.
func TestV1EntryVerificationFailures(t *testing.T) {
	f := newV1Fixture(t, nil)
	s := newECDSASigner(t, elliptic.P256(), crypto.SHA256)
	good := f.upload(t, s.hashedRekord(t, []byte("verify me")))
	other := f.upload(t, s.hashedRekord(t, []byte("another")))
	// Read again: its proof is now in the tree of 2 and has a hash.
	good, err := f.v1.GetByUUID(context.Background(), good.UUID)
	if err != nil {
		t.Fatal(err)
	}
	keys := []tlog.LogKey{f.key}
	clone := func() *logclient.V1Entry {
		b, _ := json.Marshal(good.Entry)
		e := &logclient.V1Entry{UUID: good.UUID}
		if err := json.Unmarshal(b, &e.Entry); err != nil {
			t.Fatal(err)
		}
		return e
	}
	for _, c := range []struct {
		name   string
		mutate func(e *logclient.V1Entry)
		keys   []tlog.LogKey
		want   error
	}{
		{"SET flipped", func(e *logclient.V1Entry) { e.Entry.Verification.SignedEntryTimestamp[10] ^= 1 }, keys, tlog.ErrBadSET},
		{"no SET", func(e *logclient.V1Entry) { e.Entry.Verification.SignedEntryTimestamp = nil }, keys, tlog.ErrBadSET},
		{"integrated time changed", func(e *logclient.V1Entry) { e.Entry.IntegratedTime++ }, keys, tlog.ErrBadSET},
		{"body of another entry", func(e *logclient.V1Entry) { e.Entry.Body = other.Entry.Body }, keys, tlog.ErrBadSET},
		{"log index changed", func(e *logclient.V1Entry) { e.Entry.LogIndex = other.Entry.LogIndex }, keys, tlog.ErrBadSET},
		{"another log ID", func(e *logclient.V1Entry) { e.Entry.LogID = strings.Repeat("ab", 32) }, keys, tlog.ErrBadSET},
		{"proof hash flipped", func(e *logclient.V1Entry) {
			h := []byte(e.Entry.Verification.InclusionProof.Hashes[0])
			h[0] ^= 1
			e.Entry.Verification.InclusionProof.Hashes[0] = string(h)
		}, keys, tlog.ErrInclusionProof},
		{"no proof", func(e *logclient.V1Entry) { e.Entry.Verification.InclusionProof = nil }, keys, tlog.ErrInclusionProof},
		{"root not the checkpoint's", func(e *logclient.V1Entry) { e.Entry.Verification.InclusionProof.RootHash = strings.Repeat("00", 32) }, keys, tlog.ErrInclusionProof},
		{"checkpoint tampered", func(e *logclient.V1Entry) {
			p := e.Entry.Verification.InclusionProof
			p.Checkpoint = strings.Replace(p.Checkpoint, "\n2\n", "\n3\n", 1)
		}, keys, tlog.ErrCheckpoint},
		{"UUID of another entry", func(e *logclient.V1Entry) { e.UUID = other.UUID }, keys, logclient.ErrBadResponse},
		{"v2 key given", func(*logclient.V1Entry) {}, []tlog.LogKey{{Origin: f.key.Origin, KeyID: f.key.KeyID, PublicKey: f.testLog.key.PublicKey}}, tlog.ErrUnsupportedKey},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := clone()
			c.mutate(e)
			if _, err := logclient.VerifyV1Entry(e, c.keys); !errors.Is(err, c.want) {
				t.Errorf("VerifyV1Entry: %v; want %v", err, c.want)
			}
		})
	}
}
