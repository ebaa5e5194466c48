package tlog

import (
	"crypto/ecdsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
)

// ErrBadSET reports a Rekor v1 signed entry timestamp that does not verify.
var ErrBadSET = errors.New("signed entry timestamp does not verify")

// SETPayload is what a Rekor v1 log signs in a signed entry timestamp: the RFC 8785 JSON of
// {body, integratedTime, logID, logIndex}, body base64 and logID hex.
func SETPayload(body []byte, integratedTime, logIndex int64, logID []byte) []byte {
	b, _ := json.Marshal(base64.StdEncoding.EncodeToString(body))
	id, _ := json.Marshal(hex.EncodeToString(logID))
	// Keys in lexical order with no whitespace: the RFC 8785 form Rekor signs.
	return []byte(`{"body":` + string(b) +
		`,"integratedTime":` + strconv.FormatInt(integratedTime, 10) +
		`,"logID":` + string(id) +
		`,"logIndex":` + strconv.FormatInt(logIndex, 10) + `}`)
}

// VerifySET checks a Rekor v1 signed entry timestamp: the log's ECDSA signature (ASN.1) over
// the SHA-256 of SETPayload.
func VerifySET(pub *ecdsa.PublicKey, set, body []byte, integratedTime, logIndex int64, logID []byte) error {
	digest := sha256.Sum256(SETPayload(body, integratedTime, logIndex, logID))
	if !ecdsa.VerifyASN1(pub, digest[:], set) {
		return fmt.Errorf("%w under the log's key (log ID %x, index %d)", ErrBadSET, logID, logIndex)
	}
	return nil
}
