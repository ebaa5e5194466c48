package rekortypes

import (
	"encoding/base64"
	"fmt"
)

// canonicalizeIntoto checks an intoto 0.0.2 entry: {"content": {"envelope": {"payloadType",
// "payload", "signatures": [{"keyid", "sig", "publicKey"}]}, "hash": <the envelope's SHA-256>}},
// where payload and sig hold the envelope's base64 strings, base64-encoded once more, and each
// publicKey a PEM key or certificate. Every key verifies a signature and every signature
// verifies. The canonical entry drops the payload and adds its SHA-256; the signatures and keys
// stay as proposed, and so does the envelope hash (which the log cannot recompute).
func canonicalizeIntoto(spec node) (obj, []string, error) {
	content, err := spec.needObject("content")
	if err != nil {
		return nil, nil, err
	}
	if _, ok := content.field("payloadHash"); ok {
		return nil, nil, fmt.Errorf("%w: %s is computed by the log", ErrInvalid, content.name("payloadHash"))
	}
	en, err := content.needObject("envelope")
	if err != nil {
		return nil, nil, err
	}
	payloadB64, err := en.needBytes("payload")
	if err != nil {
		return nil, nil, err
	}
	payloadType, err := en.needStr("payloadType")
	if err != nil {
		return nil, nil, err
	}
	list, err := en.array("signatures")
	if err != nil {
		return nil, nil, err
	}
	if len(list) == 0 {
		return nil, nil, fmt.Errorf("%w: missing %s", ErrInvalid, en.name("signatures"))
	}
	env := envelope{PayloadType: payloadType, Payload: string(payloadB64)}
	var keys [][]byte
	var sigs []any
	for i, v := range list {
		n, err := en.element("signatures", i, v)
		if err != nil {
			return nil, nil, err
		}
		keyID, _, err := n.str("keyid")
		if err != nil {
			return nil, nil, err
		}
		sig, err := n.needBytes("sig")
		if err != nil {
			return nil, nil, err
		}
		pk, err := n.needBytes("publicKey")
		if err != nil {
			return nil, nil, err
		}
		env.Signatures = append(env.Signatures, envelopeSig{KeyID: keyID, Sig: string(sig)})
		keys = append(keys, pk)
		s := obj{"sig": b64(sig), "publicKey": b64(pk)}
		if keyID != "" {
			s["keyid"] = keyID
		}
		sigs = append(sigs, s)
	}
	if _, _, err := verifyEnvelope(&env, keys, false); err != nil {
		return nil, nil, fmt.Errorf("intoto: %w", err)
	}
	payload, err := base64.StdEncoding.DecodeString(env.Payload)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %s: the envelope payload is not standard base64", ErrInvalid, en.name("payload"))
	}
	hash, err := content.needObject("hash")
	if err != nil {
		return nil, nil, err
	}
	alg, value, _, err := readHash(hash, rekordHashes)
	if err != nil {
		return nil, nil, err
	}
	var extra []string
	if payloadType == inTotoPayloadType {
		if extra, err = inTotoKeys(payload, slsa02Materials); err != nil {
			return nil, nil, err
		}
	}
	return obj{"content": obj{
		"envelope":    obj{"payloadType": payloadType, "signatures": sigs},
		"hash":        obj{"algorithm": alg, "value": value},
		"payloadHash": sha256Hash(payload),
	}}, extra, nil
}

// intotoKeys: each signature's public key, "sha256:<hex>" of its canonical form, and subjects;
// the payload hash.
func intotoKeys(spec node) ([]string, error) {
	content, err := spec.needObject("content")
	if err != nil {
		return nil, err
	}
	en, err := content.needObject("envelope")
	if err != nil {
		return nil, err
	}
	sigs, err := en.array("signatures")
	if err != nil {
		return nil, err
	}
	var keys []string
	for i, s := range sigs {
		n, err := en.element("signatures", i, s)
		if err != nil {
			return nil, err
		}
		pk, err := n.needBytes("publicKey")
		if err != nil {
			return nil, err
		}
		k, err := keyIndexKeys(pk)
		if err != nil {
			return nil, err
		}
		keys = append(keys, k...)
	}
	k, err := hashKey(content, "payloadHash")
	return append(keys, k...), err
}
