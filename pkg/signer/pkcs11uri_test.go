package signer

import (
	"bytes"
	"strings"
	"testing"
)

func TestParsePKCS11URI(t *testing.T) {
	slot := func(n int) *int { return &n }
	tests := []struct {
		in   string
		want PKCS11URI
		err  string
	}{
		{in: "pkcs11:token=signing;object=release?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-value=1234",
			want: PKCS11URI{Token: "signing", Object: "release", ModulePath: "/usr/lib/softhsm/libsofthsm2.so", PIN: "1234"}},
		{in: "pkcs11:token=My%20Token;slot-id=3;id=%4a%8d;object=key%3b1",
			want: PKCS11URI{Token: "My Token", SlotID: slot(3), ID: []byte{0x4a, 0x8d}, Object: "key;1"}},
		{in: "pkcs11:serial=abc123;id=%01;type=private", want: PKCS11URI{Serial: "abc123", ID: []byte{1}}},
		{in: "pkcs11:object=k", err: "name the token"},
		{in: "pkcs11:token=t", err: "name the key"},
		{in: "pkcs11:token=t;object=k;object=j", err: `attribute "object" given twice`},
		{in: "pkcs11:token=t;object=k;manufacturer=x", err: `attribute "manufacturer" is not supported`},
		{in: "pkcs11:token=t;object=k?module-name=softhsm2", err: `query attribute "module-name" is not supported`},
		{in: "pkcs11:token=t;object=k;type=public", err: "only private keys"},
		{in: "pkcs11:token=t;slot-id=x;object=k", err: `slot-id "x" is not a number`},
		{in: "pkcs11:token=t;object=%zz", err: "attribute object"},
		{in: "pkcs11:token;object=k", err: `attribute "token" has no value`},
		{in: "pkcs12:token=t;object=k", err: `must start with "pkcs11:"`},
		{in: "pkcs11:token=t;object=k#frag", err: "fragments"},
		{in: "pkcs11:token=t;object=" + strings.Repeat("a", maxPKCS11URILength), err: "too long"},
	}
	for _, tc := range tests {
		t.Run(tc.in[:min(len(tc.in), 60)], func(t *testing.T) {
			got, err := ParsePKCS11URI(tc.in)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Token != tc.want.Token || got.Object != tc.want.Object || !bytes.Equal(got.ID, tc.want.ID) ||
				got.Serial != tc.want.Serial || got.ModulePath != tc.want.ModulePath || got.PIN != tc.want.PIN ||
				(got.SlotID == nil) != (tc.want.SlotID == nil) || (got.SlotID != nil && *got.SlotID != *tc.want.SlotID) {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
			// Formatting and parsing again gives the same URI; String never shows the PIN.
			again, err := ParsePKCS11URI(got.WithPIN())
			if err != nil {
				t.Fatalf("reparsing %q: %v", got.WithPIN(), err)
			}
			if again.WithPIN() != got.WithPIN() {
				t.Fatalf("round trip %q -> %q", got.WithPIN(), again.WithPIN())
			}
			if got.PIN != "" && strings.Contains(got.String(), got.PIN) {
				t.Fatalf("String() shows the PIN: %s", got)
			}
		})
	}
}

func FuzzParsePKCS11URI(f *testing.F) {
	f.Add("pkcs11:token=signing;object=release?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-value=1234")
	f.Add("pkcs11:token=a%20b;slot-id=1;id=%00%ff;object=x")
	f.Add("pkcs11:serial=1;id=%01")
	f.Add("pkcs11:;;?&&")
	f.Fuzz(func(t *testing.T, s string) {
		u, err := ParsePKCS11URI(s)
		if err != nil {
			return
		}
		again, err := ParsePKCS11URI(u.WithPIN())
		if err != nil {
			t.Fatalf("formatted URI %q does not parse: %v", u.WithPIN(), err)
		}
		if again.WithPIN() != u.WithPIN() {
			t.Fatalf("round trip changed %q to %q", u.WithPIN(), again.WithPIN())
		}
	})
}
