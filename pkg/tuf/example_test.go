package tuf_test

import (
	"context"
	"fmt"
	"log"
	"net/http/httptest"
	"os"
	"path/filepath"
	"time"

	"github.com/cosign-like/cosign-like/pkg/tuf"
)

// A development stack publishes its trust configuration over TUF; a client initializes from
// the root.json it was handed and then loads the configuration, online or offline.
func ExampleNewDevRepository() {
	work, err := os.MkdirTemp("", "tuf-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(work)

	root, err := tuf.NewDevRepository(filepath.Join(work, "repo"), map[string][]byte{
		tuf.TrustedRootTarget:   []byte(`{"mediaType":"application/vnd.dev.sigstore.trustedroot.v0.2+json"}`),
		tuf.SigningConfigTarget: []byte(`{"mediaType":"application/vnd.dev.sigstore.signingconfig.v0.2+json","caUrls":[{"url":"https://ca.example","majorApiVersion":1}]}`),
	}, 24*time.Hour)
	if err != nil {
		log.Fatal(err)
	}
	mirror := httptest.NewServer(tuf.NewFileServer(filepath.Join(work, "repo")))
	defer mirror.Close()

	cache := filepath.Join(work, "cache")
	ctx := context.Background()
	if _, _, err := tuf.Initialize(ctx, tuf.InitOptions{Mirror: mirror.URL, Root: root, CacheDir: cache}); err != nil {
		log.Fatal(err)
	}
	m, err := tuf.Load(ctx, tuf.LoadOptions{CacheDir: cache, Offline: true})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("transparency logs:", len(m.TrustedRoot.Tlogs()))
	fmt.Println("CA:", m.SigningConfig.CAURL)
	// Output:
	// transparency logs: 0
	// CA: https://ca.example
}
