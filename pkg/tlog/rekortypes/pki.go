package rekortypes

import "crypto"

// pkiKey is a public key of one of rekord's signature formats.
type pkiKey interface {
	// canonical is the key as Rekor's CanonicalValue re-encodes it.
	canonical() ([]byte, error)
	// subjects are the identities the key names (certificate SANs, PGP user IDs' emails).
	subjects() []string
}

// pki is one rekord signature format: how to read its keys, and how to verify a detached
// signature over an artifact and return the signature's canonical form.
type pki struct {
	key    func(content []byte) (pkiKey, error)
	verify func(key pkiKey, sig, artifact []byte) (canonicalSig []byte, err error)
}

var pkis = map[string]pki{
	"x509": {
		key: func(c []byte) (pkiKey, error) { return parseX509Key(c) },
		verify: func(k pkiKey, sig, artifact []byte) ([]byte, error) {
			return sig, k.(*x509Key).verify(func(pub crypto.PublicKey) error { return verifyMessage(pub, artifact, sig) })
		},
	},
	"pgp":      {key: parsePGPKey, verify: verifyPGP},
	"minisign": {key: parseMinisignKey, verify: verifyMinisign},
	"ssh":      {key: parseSSHKey, verify: verifySSH},
}
