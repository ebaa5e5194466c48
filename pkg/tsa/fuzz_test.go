package tsa

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"net/http"
	"testing"
)

// FuzzParseJSONRequest checks that a JSON request is either refused with ErrBadRequest or
// accepted as a request the DER form accepts too, field for field.
func FuzzParseJSONRequest(f *testing.F) {
	sum := sha256.Sum256([]byte("x"))
	f.Add(jsonBody("sha256", sum[:], "", false, "", ""))
	f.Add(jsonBody("SHA512", make([]byte, 64), "9007199254740993", true, PolicyOID.String(), `,"other":[1]`))
	f.Add(jsonBody("sha1", sum[:20], "-1", true, "1..2", ""))
	f.Add([]byte(`{"artifactHash":"=","hashAlgorithm":"sha384","nonce":1e3}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, body []byte) {
		req, err := ParseJSONRequest(body)
		if err != nil {
			if !errors.Is(err, ErrBadRequest) {
				t.Fatalf("error %v does not wrap ErrBadRequest", err)
			}
			return
		}
		if len(body) > MaxJSONRequestSize {
			t.Fatalf("accepted a request of %d bytes", len(body))
		}
		der, err := req.Marshal()
		if err != nil {
			t.Fatalf("accepted request does not encode: %v", err)
		}
		back, err := ParseRequest(der)
		if err != nil {
			t.Fatalf("accepted JSON request refused in DER form: %v", err)
		}
		if back.HashAlgorithm != req.HashAlgorithm || !bytes.Equal(back.HashedMessage, req.HashedMessage) ||
			back.Certificates != req.Certificates || !back.TSAPolicyOID.Equal(req.TSAPolicyOID) ||
			(back.Nonce == nil) != (req.Nonce == nil) || (req.Nonce != nil && back.Nonce.Cmp(req.Nonce) != 0) {
			t.Fatalf("DER form reads %+v, JSON form %+v", back, req)
		}
	})
}

// FuzzRequestForm checks that only the two media types select a form and that every other
// Content-Type is answered 400 or 415.
func FuzzRequestForm(f *testing.F) {
	for _, s := range []string{"application/json", "application/timestamp-query; x=y", "text/plain", "application",
		"application/*", "*/*", "multipart/form-data; boundary=application/json", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, contentType string) {
		form, err := requestFormOf(contentType)
		if err != nil {
			var fe *formError
			if !errors.As(err, &fe) || (fe.status != http.StatusBadRequest && fe.status != http.StatusUnsupportedMediaType) {
				t.Fatalf("%q refused with %v", contentType, err)
			}
			return
		}
		if form != formDER && form != formJSON {
			t.Fatalf("%q gives form %d", contentType, form)
		}
	})
}
