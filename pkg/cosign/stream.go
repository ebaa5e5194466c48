package cosign

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/cosign-like/cosign-like/pkg/oci"
)

// parts is content kept as the concatenation of byte slices and never copied into one: a
// statement built from a predicate file is its head, the file's bytes and its tail, so a large
// SBOM is held once however many times it is hashed, encoded and uploaded.
type parts [][]byte

// size is the length of the content.
func (p parts) size() int64 {
	var n int64
	for _, b := range p {
		n += int64(len(b))
	}
	return n
}

// reader reads the content from the start.
func (p parts) reader() io.Reader {
	rs := make([]io.Reader, len(p))
	for i, b := range p {
		rs[i] = bytes.NewReader(b)
	}
	return io.MultiReader(rs...)
}

// bytes returns the content in one slice (a copy unless it is one part).
func (p parts) bytes() []byte {
	if len(p) == 1 {
		return p[0]
	}
	return bytes.Join(p, nil)
}

// splicedJSON is a JSON document one of whose string values is the base64 encoding of payload,
// kept as the document without that value (head and tail) and the payload: the encoding is
// made while the document is read, never stored.
type splicedJSON struct {
	head, tail []byte
	payload    parts
}

// spliceBase64 builds the splicedJSON of the document marshal returns when given, in place of
// payload, a random placeholder: marshal must encode its argument as standard base64 with
// padding (as protojson encodes bytes, and as DSSE envelopes carry their payload).
func spliceBase64(payload parts, marshal func(placeholder []byte) ([]byte, error)) (*splicedJSON, error) {
	ph := make([]byte, 48) // 64 base64 characters, no padding, unique in the document
	if _, err := rand.Read(ph); err != nil {
		return nil, err
	}
	doc, err := marshal(ph)
	if err != nil {
		return nil, err
	}
	enc := []byte(base64.StdEncoding.EncodeToString(ph))
	i := bytes.Index(doc, enc)
	if i < 0 || bytes.Count(doc, enc) != 1 {
		return nil, errors.New("encoding the document: the payload placeholder is not found exactly once")
	}
	return &splicedJSON{head: doc[:i], tail: doc[i+len(enc):], payload: payload}, nil
}

// size is the length of the document.
func (s *splicedJSON) size() int64 {
	return int64(len(s.head)) + int64(base64.StdEncoding.EncodedLen(int(s.payload.size()))) + int64(len(s.tail))
}

// reader reads the document from the start.
func (s *splicedJSON) reader() io.Reader {
	return io.MultiReader(bytes.NewReader(s.head), &base64Reader{src: s.payload.reader()}, bytes.NewReader(s.tail))
}

// WriteTo writes the document to w.
func (s *splicedJSON) WriteTo(w io.Writer) (int64, error) {
	return io.Copy(w, s.reader())
}

// bytes returns the document in one slice.
func (s *splicedJSON) bytes() []byte {
	var b bytes.Buffer
	b.Grow(int(s.size()))
	_, _ = s.WriteTo(&b)
	return b.Bytes()
}

// blob returns the document as an upload: its digest is computed here in one pass, and each
// upload attempt encodes it again.
func (s *splicedJSON) blob() (oci.Blob, error) {
	h := sha256.New()
	n, err := s.WriteTo(h)
	if err != nil {
		return oci.Blob{}, err
	}
	if n != s.size() {
		return oci.Blob{}, fmt.Errorf("encoding the document: %d bytes written, %d expected", n, s.size())
	}
	return oci.Blob{
		Size:   n,
		Digest: v1.Hash{Algorithm: "sha256", Hex: hex.EncodeToString(h.Sum(nil))},
		Open:   func() (io.Reader, error) { return s.reader(), nil },
	}, nil
}

// base64Reader reads the standard base64 encoding (with padding) of what src holds.
type base64Reader struct {
	src io.Reader
	in  [3 << 12]byte
	enc [4 << 12]byte
	out []byte
	err error
}

func (r *base64Reader) Read(p []byte) (int, error) {
	for len(r.out) == 0 {
		if r.err != nil {
			return 0, r.err
		}
		// Only the last group may be partial: ReadFull fills whole buffers until the end.
		n, err := io.ReadFull(r.src, r.in[:])
		if n > 0 {
			m := base64.StdEncoding.EncodedLen(n)
			base64.StdEncoding.Encode(r.enc[:m], r.in[:n])
			r.out = r.enc[:m]
		}
		switch {
		case err == io.EOF || err == io.ErrUnexpectedEOF:
			r.err = io.EOF
		case err != nil:
			r.err = err
		}
	}
	n := copy(p, r.out)
	r.out = r.out[n:]
	return n, nil
}
