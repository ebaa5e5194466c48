package tlog

import (
	"fmt"

	"github.com/cosign-like/cosign-like/pkg/bundle"
)

// readDSSERequest reads the body of a dsseRequestV002 (rekor-tiles' DSSERequestV002: an
// io.intoto.Envelope and the Verifier messages of its signers) and returns the hashedrekord
// request that every Rekor v2 verifier rebuilds for a DSSE bundle: the digest of the envelope's
// pre-authentication encoding under the verifier's algorithm, the envelope's signature and the
// verifier. The log stores that entry, not a dsse 0.0.2 one, because sigstore-go and cosign read
// only hashedrekord 0.0.2 from a Rekor v2 log. Exactly one signature and one verifier are
// accepted; Verify then checks the signature over the digest, as for any hashedrekord request.
func readDSSERequest(d *jsonObject) (*HashedRekordRequest, error) {
	env, err := d.object("envelope", "envelope")
	if err != nil {
		return nil, err
	}
	if env == nil {
		return nil, fmt.Errorf("%w: %s: missing envelope", ErrInvalidRequest, d.path)
	}
	payload, err := env.bytes("payload", "payload")
	if err != nil {
		return nil, err
	}
	if len(payload) == 0 {
		return nil, fmt.Errorf("%w: %s: missing payload", ErrInvalidRequest, env.path)
	}
	payloadType, err := env.str("payloadType", "payloadType")
	if err != nil {
		return nil, err
	}
	if payloadType == "" {
		return nil, fmt.Errorf("%w: %s: missing payloadType", ErrInvalidRequest, env.path)
	}
	r := &HashedRekordRequest{}
	sig, err := onlyElement(env, "signatures")
	if err != nil {
		return nil, err
	}
	if r.Signature, err = sig.bytes("sig", "sig"); err != nil {
		return nil, err
	}
	if len(r.Signature) == 0 {
		return nil, fmt.Errorf("%w: %s: missing sig", ErrInvalidRequest, sig.path)
	}
	if _, err := sig.str("keyid", "keyid"); err != nil {
		return nil, err
	}
	v, err := onlyElement(d, "verifiers")
	if err != nil {
		return nil, err
	}
	if err := readVerifier(v, r); err != nil {
		return nil, err
	}
	for _, o := range []*jsonObject{sig, env, d} {
		if err := o.done(); err != nil {
			return nil, err
		}
	}
	hash, err := keyDetailsHash(r.KeyDetails)
	if err != nil {
		return nil, err
	}
	r.Digest = hashOf(hash, bundle.PAE(payloadType, payload))
	return r, nil
}

// onlyElement returns the one element of the repeated message field name (whose JSON and proto
// names are the same), which must hold exactly one object.
func onlyElement(o *jsonObject, name string) (*jsonObject, error) {
	a, err := o.array(name, name)
	if err != nil {
		return nil, err
	}
	if len(a) != 1 {
		return nil, fmt.Errorf("%w: %s has %d %s, this log accepts exactly one", ErrInvalidRequest, o.path, len(a), name)
	}
	path := o.path + "." + name + "[0]"
	if a[0] == nil {
		return nil, fmt.Errorf("%w: %s: want a JSON object, got null", ErrInvalidRequest, path)
	}
	return asObject(path, a[0])
}
