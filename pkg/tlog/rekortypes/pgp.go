package rekortypes

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"maps"
	"slices"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
)

// pgpKey is an OpenPGP key ring, armored (one or more blocks) or binary.
type pgpKey struct{ ring openpgp.EntityList }

func parsePGPKey(content []byte) (pkiKey, error) {
	const start, end = "-----BEGIN PGP", "-----END PGP"
	if len(content) < len(start) {
		return nil, fmt.Errorf("%w: pgp public key of %d bytes", ErrInvalid, len(content))
	}
	var ring openpgp.EntityList
	if bytes.HasPrefix(content, []byte(start)) {
		// Armored: each block ends at a line starting with the end marker; the key rings of
		// all blocks are joined.
		var block bytes.Buffer
		scan := bufio.NewScanner(bytes.NewReader(content))
		for scan.Scan() {
			block.Write(scan.Bytes())
			block.WriteByte('\n')
			if !bytes.HasPrefix(scan.Bytes(), []byte(end)) {
				continue
			}
			b, err := armor.Decode(&block)
			if err != nil {
				return nil, fmt.Errorf("%w: pgp public key: %v", ErrInvalid, err)
			}
			if b.Type != openpgp.PublicKeyType && b.Type != openpgp.PrivateKeyType {
				return nil, fmt.Errorf("%w: pgp public key: armored block of type %q", ErrInvalid, b.Type)
			}
			keys, err := openpgp.ReadKeyRing(b.Body)
			if err != nil {
				return nil, fmt.Errorf("%w: pgp public key: %v", ErrInvalid, err)
			}
			ring = append(ring, keys...)
			block.Reset()
		}
		if err := scan.Err(); err != nil {
			return nil, fmt.Errorf("%w: pgp public key: %v", ErrInvalid, err)
		}
	} else {
		var err error
		if ring, err = openpgp.ReadKeyRing(bytes.NewReader(content)); err != nil {
			return nil, fmt.Errorf("%w: binary pgp public key: %v", ErrInvalid, err)
		}
	}
	if len(ring) == len(ring.DecryptionKeys()) {
		return nil, fmt.Errorf("%w: no pgp public key could be read", ErrInvalid)
	}
	return &pgpKey{ring: ring}, nil
}

// canonical: every entity's public part, in one armored PUBLIC KEY BLOCK. Rekor writes it with
// go-crypto's Entity.Serialize, which writes an entity's user IDs in Go's map order, so that
// Rekor's canonical form of a key with several user IDs varies from run to run; ours writes
// them sorted, which is one of the forms Rekor writes.
func (k *pgpKey) canonical() ([]byte, error) {
	var b bytes.Buffer
	w, err := armor.Encode(&b, openpgp.PublicKeyType, nil)
	if err != nil {
		return nil, err
	}
	for _, e := range k.ring {
		if err := serializeEntity(w, e); err != nil {
			return nil, fmt.Errorf("%w: re-encoding pgp public key: %v", ErrInvalid, err)
		}
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// subjects are the email addresses of the user IDs, entity by entity; the user IDs of one
// entity in name order (Rekor walks them in map order).
func (k *pgpKey) subjects() []string {
	var s []string
	for _, e := range k.ring {
		for _, n := range slices.Sorted(maps.Keys(e.Identities)) {
			if id := e.Identities[n]; id != nil && id.UserId != nil && isEmail(id.UserId.Email) {
				s = append(s, id.UserId.Email)
			}
		}
	}
	return s
}

// verifyPGP checks a detached signature, armored or binary, at the signature's creation time
// (so that a key that expired since still verifies what it signed while valid). The canonical
// signature is the armored form.
func verifyPGP(key pkiKey, sig, artifact []byte) ([]byte, error) {
	k := key.(*pgpKey)
	armored := false
	body := io.Reader(bytes.NewReader(sig))
	if b, err := armor.Decode(bytes.NewReader(sig)); err == nil {
		if b.Type != openpgp.SignatureType {
			return nil, fmt.Errorf("%w: armored block of type %q, want %q", ErrInvalid, b.Type, openpgp.SignatureType)
		}
		armored, body = true, b.Body
	}
	p, err := packet.Read(body)
	if err != nil {
		return nil, fmt.Errorf("%w: pgp signature: %v", ErrInvalid, err)
	}
	s, ok := p.(*packet.Signature)
	if !ok {
		return nil, fmt.Errorf("%w: pgp signature: first packet is a %T, not a signature", ErrInvalid, p)
	}
	cfg := &packet.Config{Time: func() time.Time { return s.CreationTime }}
	if armored {
		_, err = openpgp.CheckArmoredDetachedSignature(k.ring, bytes.NewReader(artifact), bytes.NewReader(sig), cfg)
	} else {
		_, err = openpgp.CheckDetachedSignature(k.ring, bytes.NewReader(artifact), bytes.NewReader(sig), cfg)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %w: %v", ErrInvalid, errSignature, err)
	}
	if armored {
		return sig, nil
	}
	var b bytes.Buffer
	w, err := armor.Encode(&b, openpgp.SignatureType, nil)
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(sig); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// serializeEntity writes the public packets of e as Entity.Serialize does (primary key, its
// revocations and direct signatures, each user ID with its signatures, each subkey with its
// revocations and binding signature), the user IDs in name order.
func serializeEntity(w io.Writer, e *openpgp.Entity) error {
	var pkts []interface{ Serialize(io.Writer) error }
	pkts = append(pkts, e.PrimaryKey)
	for _, r := range e.Revocations {
		pkts = append(pkts, r)
	}
	for _, s := range e.Signatures {
		pkts = append(pkts, s)
	}
	for _, name := range slices.Sorted(maps.Keys(e.Identities)) {
		id := e.Identities[name]
		pkts = append(pkts, id.UserId)
		for _, s := range id.Signatures {
			pkts = append(pkts, s)
		}
	}
	for _, sk := range e.Subkeys {
		if sk.Sig == nil {
			return fmt.Errorf("subkey %X has no binding signature", sk.PublicKey.Fingerprint)
		}
		pkts = append(pkts, sk.PublicKey)
		for _, r := range sk.Revocations {
			pkts = append(pkts, r)
		}
		pkts = append(pkts, sk.Sig)
	}
	for _, p := range pkts {
		if err := p.Serialize(w); err != nil {
			return err
		}
	}
	return nil
}
