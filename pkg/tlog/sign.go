package tlog

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"net/url"

	"golang.org/x/mod/sumdb/note"
)

// OriginFromURL is the checkpoint origin of a log at baseURL: its hostname, as sigstore-go
// expects for Rekor v2 logs.
func OriginFromURL(baseURL string) (string, error) {
	u, err := url.Parse(baseURL)
	if err != nil {
		return "", fmt.Errorf("parsing log URL %q: %w", baseURL, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" {
		return "", fmt.Errorf("log URL %q: want http(s)://host[:port][/path]", baseURL)
	}
	return u.Hostname(), nil
}

// NewNoteSigner returns a C2SP signed-note signer for an Ed25519 log key named origin.
func NewNoteSigner(origin string, priv ed25519.PrivateKey) (note.Signer, error) {
	if !validKeyName(origin) {
		return nil, fmt.Errorf("origin %q cannot name a note key", origin)
	}
	id := Ed25519KeyID(origin, priv.Public().(ed25519.PublicKey))
	skey := fmt.Sprintf("PRIVATE+KEY+%s+%08x+%s", origin, binary.BigEndian.Uint32(id[:4]),
		base64.StdEncoding.EncodeToString(append([]byte{noteAlgEd25519}, priv.Seed()...)))
	s, err := note.NewSigner(skey)
	if err != nil {
		return nil, fmt.Errorf("creating checkpoint signer: %w", err)
	}
	return s, nil
}

// CheckpointBody formats an unsigned C2SP checkpoint.
func CheckpointBody(origin string, size uint64, root []byte) string {
	return fmt.Sprintf("%s\n%d\n%s\n", origin, size, base64.StdEncoding.EncodeToString(root))
}

// SignCheckpoint signs the checkpoint of a tree; Ed25519 is deterministic, so equal trees give
// byte-identical notes.
func SignCheckpoint(s note.Signer, size uint64, root []byte) ([]byte, error) {
	n, err := note.Sign(&note.Note{Text: CheckpointBody(s.Name(), size, root)}, s)
	if err != nil {
		return nil, fmt.Errorf("signing checkpoint: %w", err)
	}
	return n, nil
}
