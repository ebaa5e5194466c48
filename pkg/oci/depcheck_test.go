package oci

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestNoKeyOrCertificateImports keeps pkg/oci ignorant of keys and certificates and of the
// packages above it: it moves bytes and annotations only. Of this module it may import only the
// leaf helpers in allowed, which import nothing of the module themselves.
func TestNoKeyOrCertificateImports(t *testing.T) {
	forbidden := []string{"crypto/x509", "crypto/ecdsa", "crypto/rsa", "crypto/ed25519", "crypto/elliptic",
		"github.com/cosign-like/cosign-like/", "github.com/sigstore/", "github.com/spf13/cobra"}
	allowed := map[string]bool{"github.com/cosign-like/cosign-like/internal/limitio": true, "github.com/cosign-like/cosign-like/internal/netutil": true}
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		parsed, err := parser.ParseFile(fset, f, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range parsed.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			if allowed[path] {
				continue
			}
			for _, bad := range forbidden {
				if path == bad || (strings.HasSuffix(bad, "/") && strings.HasPrefix(path, bad)) {
					t.Errorf("%s imports %s", f, path)
				}
			}
		}
	}
}
