package kmsplugin_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/cosign-like/cosign-like/pkg/signer"
	"github.com/cosign-like/cosign-like/pkg/signer/kmsplugin"
)

// memKey is a Handler over an in-memory key.
type memKey struct{ s signer.Signer }

func (k memKey) DefaultAlgorithm() string      { return "ecdsa-p256" }
func (k memKey) SupportedAlgorithms() []string { return []string{"ecdsa-p256"} }
func (k memKey) CreateKey(context.Context, string) ([]byte, error) {
	return nil, errors.New("this key exists already")
}
func (k memKey) PublicKey(context.Context) ([]byte, error) {
	return signer.MarshalPublicKeyPEM(k.s.Public())
}
func (k memKey) SignMessage(ctx context.Context, msg io.Reader, digest []byte, _ crypto.Hash) ([]byte, error) {
	if digest == nil {
		h := sha256.New()
		if _, err := io.Copy(h, msg); err != nil {
			return nil, err
		}
		digest = h.Sum(nil)
	}
	return k.s.SignDigest(ctx, digest)
}
func (k memKey) VerifySignature(_ context.Context, _ io.Reader, digest []byte, _ crypto.Hash, sig []byte) error {
	return signer.VerifyDigest(k.s.Public(), digest, sig)
}

func newMemKey(t testing.TB) memKey {
	t.Helper()
	s, err := signer.GenerateEphemeral()
	if err != nil {
		t.Fatal(err)
	}
	return memKey{s}
}

func request(t testing.TB, method string, args kmsplugin.MethodArgs) string {
	t.Helper()
	args.MethodName = method
	b, err := json.Marshal(kmsplugin.Request{InitOptions: &kmsplugin.InitOptions{ProtocolVersion: "v1", KeyResourceID: "k", HashFunc: crypto.SHA256}, MethodArgs: args})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestServe(t *testing.T) {
	k := newMemKey(t)
	handler := func(*kmsplugin.InitOptions) (kmsplugin.Handler, error) { return k, nil }
	digest := sha256.Sum256([]byte("m"))
	d := digest[:]
	tests := []struct {
		name  string
		args  []string
		stdin string
		check func(t *testing.T, r kmsplugin.Response)
		err   string
	}{
		{name: "public key", args: []string{"p", "v1", request(t, kmsplugin.MethodPublicKey, kmsplugin.MethodArgs{PublicKey: &kmsplugin.PublicKeyArgs{}})},
			check: func(t *testing.T, r kmsplugin.Response) {
				if _, err := signer.ParsePublicKeyPEM(r.PublicKey.PublicKeyPEM); err != nil {
					t.Fatal(err)
				}
			}},
		{name: "sign digest", args: []string{"p", "v1", request(t, kmsplugin.MethodSignMessage, kmsplugin.MethodArgs{SignMessage: &kmsplugin.SignMessageArgs{SignOptions: &kmsplugin.SignOptions{MessageOptions: kmsplugin.MessageOptions{Digest: &d}}}})},
			check: func(t *testing.T, r kmsplugin.Response) {
				if err := signer.VerifyDigest(k.s.Public(), d, r.SignMessage.Signature); err != nil {
					t.Fatal(err)
				}
			}},
		{name: "sign stdin", stdin: "m", args: []string{"p", "v1", request(t, kmsplugin.MethodSignMessage, kmsplugin.MethodArgs{SignMessage: &kmsplugin.SignMessageArgs{}})},
			check: func(t *testing.T, r kmsplugin.Response) {
				if err := signer.VerifyDigest(k.s.Public(), d, r.SignMessage.Signature); err != nil {
					t.Fatal(err)
				}
			}},
		{name: "default algorithm", args: []string{"p", "v1", request(t, kmsplugin.MethodDefaultAlgorithm, kmsplugin.MethodArgs{})},
			check: func(t *testing.T, r kmsplugin.Response) {
				if r.DefaultAlgorithm.DefaultAlgorithm != "ecdsa-p256" {
					t.Fatal(r.DefaultAlgorithm)
				}
			}},
		{name: "handler error", args: []string{"p", "v1", request(t, kmsplugin.MethodCreateKey, kmsplugin.MethodArgs{CreateKey: &kmsplugin.CreateKeyArgs{Algorithm: "x"}})}, err: "this key exists already"},
		{name: "wrong version", args: []string{"p", "2", "{}"}, err: `protocol version "2" is not supported`},
		{name: "missing args", args: []string{"p"}, err: "expected 2 arguments"},
		{name: "bad JSON", args: []string{"p", "v1", "{"}, err: "parsing request"},
		{name: "no init", args: []string{"p", "v1", `{"methodName":"publicKey"}`}, err: "without initOptions"},
		{name: "unknown method", args: []string{"p", "v1", request(t, "rotateKey", kmsplugin.MethodArgs{})}, err: `method "rotateKey" is not supported`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			err := kmsplugin.Serve(tc.args, strings.NewReader(tc.stdin), &out, handler)
			var resp kmsplugin.Response
			if jerr := json.Unmarshal(out.Bytes(), &resp); jerr != nil {
				t.Fatalf("stdout %q is not a response: %v", out.String(), jerr)
			}
			if tc.err != "" {
				if err == nil || !strings.Contains(resp.ErrorMessage, tc.err) {
					t.Fatalf("err = %v, errorMessage = %q, want %q", err, resp.ErrorMessage, tc.err)
				}
				return
			}
			if err != nil || resp.ErrorMessage != "" {
				t.Fatalf("err = %v, errorMessage = %q", err, resp.ErrorMessage)
			}
			tc.check(t, resp)
		})
	}
}

func FuzzServe(f *testing.F) {
	k := newMemKey(f)
	f.Add("v1", request(f, kmsplugin.MethodPublicKey, kmsplugin.MethodArgs{}), []byte{})
	f.Add("v1", request(f, kmsplugin.MethodSignMessage, kmsplugin.MethodArgs{SignMessage: &kmsplugin.SignMessageArgs{}}), []byte("data"))
	f.Add("v1", `{"initOptions":{},"methodName":"verifySignature","verifySignature":{"signature":"AA=="}}`, []byte{})
	f.Add("v0", "{}", []byte{})
	f.Fuzz(func(t *testing.T, version, req string, stdin []byte) {
		var out bytes.Buffer
		err := kmsplugin.Serve([]string{"plugin", version, req}, bytes.NewReader(stdin), &out,
			func(*kmsplugin.InitOptions) (kmsplugin.Handler, error) { return k, nil })
		var resp kmsplugin.Response
		if jerr := json.Unmarshal(out.Bytes(), &resp); jerr != nil {
			t.Fatalf("stdout is not a response: %v", jerr)
		}
		if (err != nil) != (resp.ErrorMessage != "") {
			t.Fatalf("err = %v but errorMessage = %q", err, resp.ErrorMessage)
		}
	})
}
