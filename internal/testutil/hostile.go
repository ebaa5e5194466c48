package testutil

import (
	"bufio"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// Rule makes a registry misbehave for the requests it matches.
type Rule struct {
	// Method matches the request method; "" matches any.
	Method string
	// PathContains matches when the request path contains it; "" matches any.
	PathContains string
	// Handle answers a matching request; next is the real registry.
	Handle func(w http.ResponseWriter, r *http.Request, next http.Handler)
}

// NewHostileRegistry starts an in-process registry (as NewRegistry) whose answers are
// overridden by the first matching rule, and returns its host:port and request counter
// (which records every request, overridden or not).
func NewHostileRegistry(tb testing.TB, rules ...Rule) (string, *RequestCounter) {
	tb.Helper()
	inner := RegistryHandler()
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for _, rule := range rules {
			if (rule.Method == "" || rule.Method == r.Method) && strings.Contains(r.URL.Path, rule.PathContains) {
				rule.Handle(w, r, inner)
				return
			}
		}
		inner.ServeHTTP(w, r)
	})
	counted, counter := Count(h)
	return Serve(tb, counted), counter
}

// FailFirst answers the first n matching requests with status (e.g. 500), then passes
// requests on to the registry.
func FailFirst(n int, status int) func(http.ResponseWriter, *http.Request, http.Handler) {
	var mu sync.Mutex
	seen := 0
	return func(w http.ResponseWriter, r *http.Request, next http.Handler) {
		mu.Lock()
		seen++
		fail := seen <= n
		mu.Unlock()
		if fail {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			fmt.Fprintf(w, `{"errors":[{"code":"UNKNOWN","message":"injected failure %d of %d"}]}`, seen, n)
			return
		}
		next.ServeHTTP(w, r)
	}
}

// ServeOtherManifest answers with a different, valid image manifest than the one asked for,
// while claiming (Docker-Content-Digest) to be the digest requested.
func ServeOtherManifest() func(http.ResponseWriter, *http.Request, http.Handler) {
	body := []byte(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2},"layers":[]}`)
	return func(w http.ResponseWriter, r *http.Request, _ http.Handler) {
		requested := r.URL.Path[strings.LastIndex(r.URL.Path, "/")+1:]
		w.Header().Set("Content-Type", "application/vnd.oci.image.manifest.v1+json")
		w.Header().Set("Docker-Content-Digest", requested)
		w.Header().Set("Content-Length", fmt.Sprint(len(body)))
		if r.Method != http.MethodHead {
			_, _ = w.Write(body)
		}
	}
}

// fakeDigest returns a well-formed sha256 digest derived from i.
func fakeDigest(prefix string, i int) string {
	return fmt.Sprintf("sha256:%x", sha256.Sum256([]byte(fmt.Sprintf("%s-%d", prefix, i))))
}

// ServeManyLayers streams an image manifest declaring n layers (a million take about 150 MB,
// written as they are read and never held in memory), with the given layer media type.
func ServeManyLayers(n int, layerMediaType string) func(http.ResponseWriter, *http.Request, http.Handler) {
	return func(w http.ResponseWriter, r *http.Request, _ http.Handler) {
		w.Header().Set("Content-Type", "application/vnd.oci.image.manifest.v1+json")
		if r.Method == http.MethodHead {
			return
		}
		bw := bufio.NewWriter(w)
		fmt.Fprintf(bw, `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"%s","size":2},"layers":[`, fakeDigest("config", 0))
		for i := 0; i < n; i++ {
			if i > 0 {
				bw.WriteByte(',')
			}
			if _, err := fmt.Fprintf(bw, `{"mediaType":%q,"digest":"%s","size":10}`, layerMediaType, fakeDigest("layer", i)); err != nil {
				return // the client went away
			}
		}
		bw.WriteString(`]}`)
		_ = bw.Flush()
	}
}

// ServeHugeLayer answers with an image manifest whose single layer (of the given media type
// and annotations) declares size bytes, e.g. 10 GiB; the layer's blob does not exist.
// It returns the handler and the digest of that layer, so a test can assert it is never
// requested.
func ServeHugeLayer(size int64, layerMediaType string, annotations map[string]string) (func(http.ResponseWriter, *http.Request, http.Handler), string) {
	layer := fakeDigest("huge", 0)
	ann, _ := json.Marshal(annotations)
	body := []byte(fmt.Sprintf(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"%s","size":2},"layers":[{"mediaType":%q,"digest":"%s","size":%d,"annotations":%s}]}`,
		fakeDigest("config", 0), layerMediaType, layer, size, ann))
	return func(w http.ResponseWriter, r *http.Request, _ http.Handler) {
		w.Header().Set("Content-Type", "application/vnd.oci.image.manifest.v1+json")
		w.Header().Set("Content-Length", fmt.Sprint(len(body)))
		if r.Method != http.MethodHead {
			_, _ = w.Write(body)
		}
	}, layer
}

// ServeManyReferrers answers the referrers API with an index listing n Sigstore bundle
// manifests (streamed; they do not exist in the registry).
func ServeManyReferrers(n int) func(http.ResponseWriter, *http.Request, http.Handler) {
	return func(w http.ResponseWriter, r *http.Request, _ http.Handler) {
		w.Header().Set("Content-Type", "application/vnd.oci.image.index.v1+json")
		bw := bufio.NewWriter(w)
		bw.WriteString(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[`)
		for i := 0; i < n; i++ {
			if i > 0 {
				bw.WriteByte(',')
			}
			if _, err := fmt.Fprintf(bw, `{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"%s","size":700,"artifactType":"application/vnd.dev.sigstore.bundle.v0.3+json","annotations":{"dev.sigstore.bundle.content":"dsse-envelope","dev.sigstore.bundle.predicateType":"https://sigstore.dev/cosign/sign/v1"}}`, fakeDigest("referrer", i)); err != nil {
				return
			}
		}
		bw.WriteString(`]}`)
		_ = bw.Flush()
	}
}

// Delay passes matching requests on to the registry after waiting d, like a distant registry.
func Delay(d time.Duration) func(http.ResponseWriter, *http.Request, http.Handler) {
	return func(w http.ResponseWriter, r *http.Request, next http.Handler) {
		time.Sleep(d)
		next.ServeHTTP(w, r)
	}
}
