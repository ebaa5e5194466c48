package ctlog

import (
	"crypto/x509"
	"testing"
	"time"
)

// PKI is a root, an intermediate under it and leaves of the intermediate, for the tests of
// package ctlog_test.
type PKI struct{ p *testPKI }

// NewPKI makes a root and an intermediate.
func NewPKI(t testing.TB) PKI { return PKI{newPKI(t)} }

// Root and Inter are the CA certificates.
func (p PKI) Root() *x509.Certificate  { return p.p.root }
func (p PKI) Inter() *x509.Certificate { return p.p.inter }

// Leaf issues a leaf (a precertificate when precert) valid from notBefore.
func (p PKI) Leaf(t testing.TB, precert bool, notBefore time.Time) []byte {
	return p.p.leaf(t, precert, notBefore)
}
