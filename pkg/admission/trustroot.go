package admission

import (
	"context"
	"fmt"
	"path/filepath"

	"github.com/cosign-like/cosign-like/pkg/admission/policy"
	"github.com/cosign-like/cosign-like/pkg/root"
	"github.com/cosign-like/cosign-like/pkg/tuf"
)

// FetchTrustRoots gets the trusted root of each TrustRoot document from its TUF repository:
// the repository's metadata is verified from the document's initial root.json (following root
// rotations) and the target trusted_root.json downloaded and checked, in a cache of its own
// under cacheDir. The result is keyed by the documents' names, as trustRootRef names them.
func FetchTrustRoots(ctx context.Context, trs []*policy.TrustRoot, cacheDir string) (map[string]*root.TrustedRoot, error) {
	out := make(map[string]*root.TrustedRoot, len(trs))
	for _, tr := range trs {
		r := tr.Spec.Remote
		if r == nil {
			return nil, fmt.Errorf("%s: trust root %q: no spec.remote", tr.Source, tr.Metadata.Name)
		}
		data, _, err := tuf.Initialize(ctx, tuf.InitOptions{Mirror: r.Mirror, Root: r.Root, CacheDir: filepath.Join(cacheDir, tr.Metadata.Name)})
		if err != nil {
			return nil, fmt.Errorf("%s: trust root %q from %s: %w", tr.Source, tr.Metadata.Name, r.Mirror, err)
		}
		if out[tr.Metadata.Name], err = root.ParseTrustedRoot(data); err != nil {
			return nil, fmt.Errorf("%s: trust root %q: %w", tr.Source, tr.Metadata.Name, err)
		}
	}
	return out, nil
}
