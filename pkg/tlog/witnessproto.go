package tlog

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strconv"
)

// MaxConsistencyProofLines is the most consistency proof lines an add-checkpoint request may
// carry (C2SP tlog-witness).
const MaxConsistencyProofLines = 63

// TreeSizeMediaType is the Content-Type of a witness's 409 answer: the size of the latest
// checkpoint it cosigned, in decimal, and a newline.
const TreeSizeMediaType = "text/x.tlog.size"

// AddCheckpointRequest is the body of a C2SP tlog-witness add-checkpoint request.
type AddCheckpointRequest struct {
	// OldSize is the size of the checkpoint the client believes the witness last cosigned.
	OldSize uint64
	// Proof is the RFC 6962 consistency proof from OldSize to the checkpoint's size.
	Proof [][]byte
	// Checkpoint is the signed checkpoint note.
	Checkpoint []byte
}

// ParseAddCheckpointRequest parses an add-checkpoint body: "old <size>\n" (canonical decimal),
// at most MaxConsistencyProofLines lines of one base64 SHA-256 hash each, an empty line, then
// the signed checkpoint note, which is returned as is (OpenCheckpoint checks it). Errors wrap
// ErrMalformedWitnessRequest.
func ParseAddCheckpointRequest(body []byte) (*AddCheckpointRequest, error) {
	if len(body) > MaxNoteSize+(MaxConsistencyProofLines+1)*64 {
		return nil, fmt.Errorf("%w: %d bytes", ErrMalformedWitnessRequest, len(body))
	}
	line, rest, ok := bytes.Cut(body, []byte("\n"))
	if !ok {
		return nil, fmt.Errorf("%w: no old size line", ErrMalformedWitnessRequest)
	}
	sizeText, ok := bytes.CutPrefix(line, []byte("old "))
	if !ok {
		return nil, fmt.Errorf("%w: first line is not \"old <size>\"", ErrMalformedWitnessRequest)
	}
	old, err := parseDecimal(string(sizeText))
	if err != nil {
		return nil, fmt.Errorf("%w: old size %q: %v", ErrMalformedWitnessRequest, truncate(string(sizeText)), err)
	}
	r := &AddCheckpointRequest{OldSize: old}
	for {
		line, rest, ok = bytes.Cut(rest, []byte("\n"))
		if !ok {
			return nil, fmt.Errorf("%w: no empty line before the checkpoint", ErrMalformedWitnessRequest)
		}
		if len(line) == 0 {
			break
		}
		if len(r.Proof) == MaxConsistencyProofLines {
			return nil, fmt.Errorf("%w: more than %d consistency proof lines", ErrMalformedWitnessRequest, MaxConsistencyProofLines)
		}
		h, err := base64.StdEncoding.DecodeString(string(line))
		if err != nil || len(h) != sha256.Size {
			return nil, fmt.Errorf("%w: consistency proof line %d is not a base64 SHA-256 hash", ErrMalformedWitnessRequest, len(r.Proof)+1)
		}
		r.Proof = append(r.Proof, h)
	}
	if len(rest) == 0 {
		return nil, fmt.Errorf("%w: no checkpoint after the empty line", ErrMalformedWitnessRequest)
	}
	r.Checkpoint = rest
	return r, nil
}

// Marshal renders the request body.
func (r *AddCheckpointRequest) Marshal() []byte {
	var b bytes.Buffer
	b.WriteString("old ")
	b.WriteString(strconv.FormatUint(r.OldSize, 10))
	b.WriteByte('\n')
	for _, h := range r.Proof {
		b.WriteString(base64.StdEncoding.EncodeToString(h))
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	b.Write(r.Checkpoint)
	return b.Bytes()
}

// CosignedNote appends cosignature lines (as a witness answers add-checkpoint) to a signed
// checkpoint note, giving the note a verifier of both reads.
func CosignedNote(signedNote []byte, cosignatures ...*Cosignature) []byte {
	out := bytes.Clone(signedNote)
	for _, c := range cosignatures {
		out = append(out, c.Line()...)
	}
	return out
}
