package tlog

// LogIndexHeader is the response header naming the index of an existing identical entry (answered
// 409), as rekor-tiles sets it.
const LogIndexHeader = "X-Log-Index"

// ErrorBody is the JSON error answer of the log's write API, shaped like grpc-gateway's.
type ErrorBody struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}
