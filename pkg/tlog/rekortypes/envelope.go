package rekortypes

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/cosign-like/cosign-like/pkg/bundle"
)

// inTotoPayloadType is the DSSE payload type of an in-toto statement.
const inTotoPayloadType = "application/vnd.in-toto+json"

// envelope is a DSSE envelope as Rekor reads one (encoding/json, so member names match
// case-insensitively, as Rekor's do).
type envelope struct {
	PayloadType string        `json:"payloadType"`
	Payload     string        `json:"payload"`
	Signatures  []envelopeSig `json:"signatures"`
}

type envelopeSig struct {
	KeyID string `json:"keyid"`
	Sig   string `json:"sig"`
}

// dsseBase64 decodes as the DSSE library Rekor uses does: standard base64, else URL-safe.
func dsseBase64(what, s string) ([]byte, error) {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		if b, err = base64.URLEncoding.DecodeString(s); err != nil {
			return nil, fmt.Errorf("%w: envelope %s is not base64", ErrInvalid, what)
		}
	}
	return b, nil
}

// verifyEnvelope checks the envelope's signatures with the keys as Rekor does: each key, in
// order, accepts the first signature (in envelope order) that it verifies over the
// pre-authentication encoding, with SHA-256 for ECDSA and RSA PKCS#1 v1.5 and pure Ed25519; a
// key that verifies none is an error, and so is a signature that no key accepted. With
// stopWhenDone (dsse), keys after the last signature was accepted are not looked at. It returns
// the key that accepted each signature (by its base64 string) and the decoded payload.
func verifyEnvelope(env *envelope, keys [][]byte, stopWhenDone bool) (map[string]*x509Key, []byte, error) {
	if len(env.Signatures) == 0 {
		return nil, nil, fmt.Errorf("%w: the DSSE envelope has no signature", ErrInvalid)
	}
	if len(env.Signatures) > maxSignatures || len(keys) > maxSignatures {
		return nil, nil, fmt.Errorf("%w: %d signatures and %d keys; this log accepts at most %d of each", ErrInvalid, len(env.Signatures), len(keys), maxSignatures)
	}
	pending := map[string]bool{}
	for _, s := range env.Signatures {
		pending[s.Sig] = true
	}
	byKey := map[string]*x509Key{}
	var payload []byte
	for i, kb := range keys {
		if stopWhenDone && len(pending) == 0 {
			break
		}
		key, err := parseX509Key(kb)
		if err != nil {
			return nil, nil, fmt.Errorf("verifier %d: %w", i, err)
		}
		switch key.pub.(type) {
		case *ecdsa.PublicKey, *rsa.PublicKey, ed25519.PublicKey:
		default:
			return nil, nil, fmt.Errorf("%w: verifier %d: key type %T is not supported", ErrInvalid, i, key.pub)
		}
		if payload, err = dsseBase64("payload", env.Payload); err != nil {
			return nil, nil, err
		}
		pae := bundle.PAE(env.PayloadType, payload)
		accepted, found := "", false
		for j, s := range env.Signatures {
			sig, err := dsseBase64(fmt.Sprintf("signature %d", j), s.Sig)
			if err != nil {
				return nil, nil, err
			}
			if !found && verifyMessage(key.pub, pae, sig) == nil {
				accepted, found = s.Sig, true
			}
		}
		if !found {
			return nil, nil, fmt.Errorf("%w: verifier %d verifies no signature of the envelope", ErrInvalid, i)
		}
		delete(pending, accepted)
		byKey[accepted] = key
	}
	if len(pending) > 0 {
		return nil, nil, fmt.Errorf("%w: %d of the envelope's signatures verify under none of the keys", ErrInvalid, len(pending))
	}
	return byKey, payload, nil
}

// inTotoKeys are the index keys of an in-toto statement: "<algorithm>:<digest>" of each subject
// and, for a SLSA 0.2 provenance predicate (typed as such), of each material. Digest algorithms
// of one subject are in name order; Rekor walks them in map order. A payload that is not a
// statement is refused.
func inTotoKeys(payload []byte, materials func([]byte) []map[string]string) ([]string, error) {
	var st struct {
		Subject []struct {
			Digest map[string]string `json:"digest"`
		} `json:"subject"`
	}
	if err := json.Unmarshal(payload, &st); err != nil {
		return nil, fmt.Errorf("%w: the %s payload is not an in-toto statement: %v", ErrInvalid, inTotoPayloadType, err)
	}
	var keys []string
	add := func(d map[string]string) {
		for _, alg := range slices.Sorted(maps.Keys(d)) {
			keys = append(keys, alg+":"+d[alg])
		}
	}
	for _, s := range st.Subject {
		add(s.Digest)
	}
	for _, m := range materials(payload) {
		add(m)
	}
	return keys, nil
}

// predicateMaterials are the digests of predicate.materials, read loosely (dsse 0.0.1).
func predicateMaterials(payload []byte) []map[string]string {
	var st struct {
		Predicate json.RawMessage `json:"predicate"`
	}
	if json.Unmarshal(payload, &st) != nil || st.Predicate == nil {
		return nil
	}
	var p struct {
		Materials []struct {
			Digest map[string]string `json:"digest"`
		} `json:"materials"`
	}
	if json.Unmarshal(st.Predicate, &p) != nil {
		return nil
	}
	var d []map[string]string
	for _, m := range p.Materials {
		d = append(d, m.Digest)
	}
	return d
}

// slsa02Materials are the digests of the materials of a statement that reads as a whole as a
// SLSA 0.2 provenance statement, every typed field of the right JSON type (intoto 0.0.2).
func slsa02Materials(payload []byte) []map[string]string {
	type digestSet map[string]string
	var st struct {
		Type          string `json:"_type"`
		PredicateType string `json:"predicateType"`
		Subject       []struct {
			Name   string    `json:"name"`
			Digest digestSet `json:"digest"`
		} `json:"subject"`
		Predicate struct {
			Builder struct {
				ID string `json:"id"`
			} `json:"builder"`
			BuildType  string `json:"buildType"`
			Invocation struct {
				ConfigSource struct {
					URI        string    `json:"uri"`
					Digest     digestSet `json:"digest"`
					EntryPoint string    `json:"entryPoint"`
				} `json:"configSource"`
				Parameters  any `json:"parameters"`
				Environment any `json:"environment"`
			} `json:"invocation"`
			BuildConfig any `json:"buildConfig"`
			Metadata    *struct {
				BuildInvocationID string     `json:"buildInvocationID"`
				BuildStartedOn    *time.Time `json:"buildStartedOn"`
				BuildFinishedOn   *time.Time `json:"buildFinishedOn"`
				Completeness      struct {
					Parameters  bool `json:"parameters"`
					Environment bool `json:"environment"`
					Materials   bool `json:"materials"`
				} `json:"completeness"`
				Reproducible bool `json:"reproducible"`
			} `json:"metadata"`
			Materials []struct {
				URI    string    `json:"uri"`
				Digest digestSet `json:"digest"`
			} `json:"materials"`
		} `json:"predicate"`
	}
	if json.Unmarshal(payload, &st) != nil {
		return nil
	}
	var d []map[string]string
	for _, m := range st.Predicate.Materials {
		d = append(d, m.Digest)
	}
	return d
}

// sha256Hash is {"algorithm": "sha256", "value": <hex>} of b.
func sha256Hash(b []byte) obj {
	sum := sha256.Sum256(b)
	return obj{"algorithm": "sha256", "value": hex.EncodeToString(sum[:])}
}

// keyIndexKeys are "sha256:<hex>" of the canonical x509 key and the key's subjects, as dsse
// and intoto index a verifier.
func keyIndexKeys(content []byte) ([]string, error) {
	k, err := parseX509Key(content)
	if err != nil {
		return nil, err
	}
	canon, err := k.canonical()
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(canon)
	return append([]string{"sha256:" + hex.EncodeToString(sum[:])}, k.subjects()...), nil
}

// hashKey is "<algorithm>:<value>" of the hash object named key, if spec has one.
func hashKey(n node, key string) ([]string, error) {
	h, ok, err := n.object(key)
	if err != nil || !ok {
		return nil, err
	}
	alg, err := h.needStr("algorithm")
	if err != nil {
		return nil, err
	}
	value, err := h.needStr("value")
	if err != nil {
		return nil, err
	}
	return []string{alg + ":" + value}, nil
}
