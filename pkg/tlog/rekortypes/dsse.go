package rekortypes

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
)

// canonicalizeDSSE checks a dsse 0.0.1 proposal, {"proposedContent": {"envelope": <envelope
// JSON as a string>, "verifiers": [<base64 PEM key or certificate>...]}}: every signature of
// the envelope verifies under one of the verifiers. The canonical entry keeps, for each
// signature (sorted by its base64 string), the signature and its verifier re-encoded, and the
// SHA-256 of the payload and of the envelope as proposed; the envelope itself is not kept.
func canonicalizeDSSE(spec node) (obj, []string, error) {
	for _, f := range []string{"envelopeHash", "payloadHash", "signatures"} {
		if _, ok := spec.field(f); ok {
			return nil, nil, fmt.Errorf("%w: %s is computed by the log; propose spec.proposedContent only", ErrInvalid, spec.name(f))
		}
	}
	pc, err := spec.needObject("proposedContent")
	if err != nil {
		return nil, nil, err
	}
	envJSON, err := pc.needStr("envelope")
	if err != nil {
		return nil, nil, err
	}
	list, err := pc.array("verifiers")
	if err != nil {
		return nil, nil, err
	}
	var keys [][]byte
	for i, v := range list {
		s, ok := v.(string)
		if !ok {
			return nil, nil, fmt.Errorf("%w: %s[%d] is a JSON %s, want a base64 string", ErrInvalid, pc.name("verifiers"), i, jsonKind(v))
		}
		if s == "" {
			continue // Rekor skips an empty verifier
		}
		k, err := (node{path: fmt.Sprintf("%s[%d]", pc.name("verifiers"), i), m: map[string]any{"": s}}).bytes("")
		if err != nil {
			return nil, nil, err
		}
		keys = append(keys, k)
	}
	if len(keys) == 0 {
		return nil, nil, fmt.Errorf("%w: missing %s", ErrInvalid, pc.name("verifiers"))
	}
	var env envelope
	if err := json.Unmarshal([]byte(envJSON), &env); err != nil {
		return nil, nil, fmt.Errorf("%w: %s is not a DSSE envelope: %v", ErrInvalid, pc.name("envelope"), err)
	}
	byKey, payload, err := verifyEnvelope(&env, keys, true)
	if err != nil {
		return nil, nil, fmt.Errorf("dsse: %w", err)
	}
	sigs := make([]any, 0, len(byKey))
	for _, s := range slices.Sorted(maps.Keys(byKey)) {
		canon, err := byKey[s].canonical()
		if err != nil {
			return nil, nil, err
		}
		sigs = append(sigs, obj{"signature": s, "verifier": b64(canon)})
	}
	var extra []string
	if env.PayloadType == inTotoPayloadType {
		// Rekor indexes what it can read of the statement and logs the entry all the same.
		extra, _ = inTotoKeys(payload, predicateMaterials)
	}
	return obj{
		"envelopeHash": sha256Hash([]byte(envJSON)),
		"payloadHash":  sha256Hash(payload),
		"signatures":   sigs,
	}, extra, nil
}

// dsseKeys: each verifier's "sha256:<hex>" and subjects, the payload hash, the envelope hash.
func dsseKeys(spec node) ([]string, error) {
	sigs, err := spec.array("signatures")
	if err != nil {
		return nil, err
	}
	var keys []string
	for i, s := range sigs {
		n, err := spec.element("signatures", i, s)
		if err != nil {
			return nil, err
		}
		v, err := n.needBytes("verifier")
		if err != nil {
			return nil, err
		}
		k, err := keyIndexKeys(v)
		if err != nil {
			return nil, err
		}
		keys = append(keys, k...)
	}
	for _, h := range []string{"payloadHash", "envelopeHash"} {
		k, err := hashKey(spec, h)
		if err != nil {
			return nil, err
		}
		keys = append(keys, k...)
	}
	return keys, nil
}
