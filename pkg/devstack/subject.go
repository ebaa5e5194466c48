package devstack

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
)

// maxManifest bounds the manifests the dev registry reads to find their subject.
const maxManifest = 4 << 20

// withOCISubject makes a registry that indexes referrers say so, as the OCI distribution spec
// asks: the answer to a manifest PUT whose manifest has a subject carries the OCI-Subject header
// with the subject's digest. go-containerregistry's registry serves the referrers API but does
// not send the header, so clients would otherwise fall back to the referrers tag schema.
func withOCISubject(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPut || !strings.Contains(r.URL.Path, "/manifests/") {
			next.ServeHTTP(w, r)
			return
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, maxManifest+1))
		if err != nil || len(body) > maxManifest {
			http.Error(w, "manifest too large", http.StatusRequestEntityTooLarge)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		var m struct {
			Subject *struct {
				Digest string `json:"digest"`
			} `json:"subject"`
		}
		if json.Unmarshal(body, &m) != nil || m.Subject == nil || m.Subject.Digest == "" {
			next.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(&subjectWriter{ResponseWriter: w, subject: m.Subject.Digest}, r)
	})
}

// subjectWriter adds the OCI-Subject header to a successful answer.
type subjectWriter struct {
	http.ResponseWriter
	subject string
}

func (s *subjectWriter) WriteHeader(code int) {
	if code == http.StatusCreated {
		s.Header().Set("OCI-Subject", s.subject)
	}
	s.ResponseWriter.WriteHeader(code)
}
