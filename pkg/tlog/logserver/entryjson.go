package logserver

import (
	"encoding/json"

	rekorv1 "github.com/sigstore/protobuf-specs/gen/pb-go/rekor/v1"
)

// entryJSON is the protojson form of the TransparencyLogEntry the server answers with, written
// with encoding/json (several times cheaper than protojson on the append path): JSON field names,
// 64-bit integers as strings, bytes in standard base64.
type entryJSON struct {
	LogIndex int64 `json:"logIndex,string"`
	LogID    struct {
		KeyID []byte `json:"keyId"`
	} `json:"logId"`
	KindVersion struct {
		Kind    string `json:"kind"`
		Version string `json:"version"`
	} `json:"kindVersion"`
	InclusionProof struct {
		LogIndex   int64    `json:"logIndex,string"`
		RootHash   []byte   `json:"rootHash"`
		TreeSize   int64    `json:"treeSize,string"`
		Hashes     [][]byte `json:"hashes"`
		Checkpoint struct {
			Envelope string `json:"envelope"`
		} `json:"checkpoint"`
	} `json:"inclusionProof"`
	CanonicalizedBody []byte `json:"canonicalizedBody"`
}

// marshalEntry encodes an entry built by the server (every field set).
func marshalEntry(tle *rekorv1.TransparencyLogEntry) ([]byte, error) {
	var e entryJSON
	e.LogIndex = tle.GetLogIndex()
	e.LogID.KeyID = tle.GetLogId().GetKeyId()
	e.KindVersion.Kind = tle.GetKindVersion().GetKind()
	e.KindVersion.Version = tle.GetKindVersion().GetVersion()
	p := tle.GetInclusionProof()
	e.InclusionProof.LogIndex = p.GetLogIndex()
	e.InclusionProof.RootHash = p.GetRootHash()
	e.InclusionProof.TreeSize = p.GetTreeSize()
	e.InclusionProof.Hashes = p.GetHashes()
	if e.InclusionProof.Hashes == nil {
		e.InclusionProof.Hashes = [][]byte{}
	}
	e.InclusionProof.Checkpoint.Envelope = p.GetCheckpoint().GetEnvelope()
	e.CanonicalizedBody = tle.GetCanonicalizedBody()
	return json.Marshal(&e)
}
