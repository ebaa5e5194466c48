package rekortypes

import (
	"crypto/sha256"
	"crypto/sha512"
	"encoding/pem"
	"fmt"
	"hash"

	"golang.org/x/crypto/ssh"
)

// maxSSHKey bounds an SSH public key, as Rekor bounds it.
const maxSSHKey = 64 << 10

// sshKey is an SSH public key in authorized_keys form; its comment, when an email address,
// is the key's subject.
type sshKey struct {
	key     ssh.PublicKey
	comment string
}

func parseSSHKey(content []byte) (pkiKey, error) {
	if len(content) > maxSSHKey {
		return nil, fmt.Errorf("%w: ssh public key of %d bytes exceeds %d", ErrInvalid, len(content), maxSSHKey)
	}
	k, comment, _, _, err := ssh.ParseAuthorizedKey(content)
	if err != nil {
		return nil, fmt.Errorf("%w: ssh public key: %v", ErrInvalid, err)
	}
	return &sshKey{key: k, comment: comment}, nil
}

// canonical: the authorized_keys line without options or comment.
func (k *sshKey) canonical() ([]byte, error) { return ssh.MarshalAuthorizedKey(k.key), nil }

func (k *sshKey) subjects() []string {
	if isEmail(k.comment) {
		return []string{k.comment}
	}
	return nil
}

// SSHSIG (OpenSSH's PROTOCOL.sshsig): the armored blob, and the data its signature covers.
const (
	sshsigMagic     = "SSHSIG"
	sshsigPEM       = "SSH SIGNATURE"
	sshsigNamespace = "file"
)

type sshsigBlob struct {
	Magic         [6]byte
	Version       uint32
	PublicKey     string
	Namespace     string
	Reserved      string
	HashAlgorithm string
	Signature     string
}

type sshsigSignedData struct {
	Namespace     string
	Reserved      string
	HashAlgorithm string
	Hash          string
}

var sshsigHashes = map[string]func() hash.Hash{"sha256": sha256.New, "sha512": sha512.New}

// verifySSH checks an SSHSIG signature in namespace "file" as ssh-keygen -Y sign -n file
// writes it. Rekor re-armors the signature before checking it, writing sha512 as its hash
// algorithm whatever the signature said, so only a sha512 signature (ssh-keygen's default)
// verifies; the canonical signature is that re-armored form.
func verifySSH(key pkiKey, sig, artifact []byte) ([]byte, error) {
	k := key.(*sshKey)
	block, _ := pem.Decode(sig)
	if block == nil {
		return nil, fmt.Errorf("%w: ssh signature: no PEM block", ErrInvalid)
	}
	if block.Type != sshsigPEM {
		return nil, fmt.Errorf("%w: ssh signature: PEM block %q, want %q", ErrInvalid, block.Type, sshsigPEM)
	}
	var blob sshsigBlob
	if err := ssh.Unmarshal(block.Bytes, &blob); err != nil {
		return nil, fmt.Errorf("%w: ssh signature: %v", ErrInvalid, err)
	}
	switch {
	case blob.Version != 1:
		return nil, fmt.Errorf("%w: ssh signature version %d, want 1", ErrInvalid, blob.Version)
	case string(blob.Magic[:]) != sshsigMagic:
		return nil, fmt.Errorf("%w: ssh signature: magic %q, want %q", ErrInvalid, blob.Magic[:], sshsigMagic)
	case blob.Namespace != sshsigNamespace:
		return nil, fmt.Errorf("%w: ssh signature namespace %q, want %q (ssh-keygen -Y sign -n file)", ErrInvalid, blob.Namespace, sshsigNamespace)
	}
	if _, ok := sshsigHashes[blob.HashAlgorithm]; !ok {
		return nil, fmt.Errorf("%w: ssh signature hash algorithm %q (sha256 or sha512)", ErrInvalid, blob.HashAlgorithm)
	}
	var s ssh.Signature
	if err := ssh.Unmarshal([]byte(blob.Signature), &s); err != nil {
		return nil, fmt.Errorf("%w: ssh signature: %v", ErrInvalid, err)
	}
	signer, err := ssh.ParsePublicKey([]byte(blob.PublicKey))
	if err != nil {
		return nil, fmt.Errorf("%w: ssh signature's public key: %v", ErrInvalid, err)
	}
	canon := sshsigBlob{
		Version: 1, PublicKey: string(signer.Marshal()), Namespace: sshsigNamespace,
		HashAlgorithm: "sha512", Signature: string(ssh.Marshal(&s)),
	}
	copy(canon.Magic[:], sshsigMagic)
	h := sha512.Sum512(artifact)
	signed := append([]byte(sshsigMagic), ssh.Marshal(sshsigSignedData{Namespace: sshsigNamespace, HashAlgorithm: "sha512", Hash: string(h[:])})...)
	if err := k.key.Verify(signed, &s); err != nil {
		return nil, fmt.Errorf("%w: %w (ssh %s, %s): %v", ErrInvalid, errSignature, k.key.Type(), blob.HashAlgorithm, err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: sshsigPEM, Bytes: ssh.Marshal(canon)}), nil
}
