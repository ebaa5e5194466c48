package verify_test

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestNoNetworkImports keeps the verifier and the bundle codec offline: their non-test code may
// not import packages that dial, serve or run programs.
func TestNoNetworkImports(t *testing.T) {
	forbidden := []string{"net/http", "net/rpc", "os/exec", "net"}
	for _, dir := range []string{".", "../bundle"} {
		files, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			parsed, err := parser.ParseFile(token.NewFileSet(), f, nil, parser.ImportsOnly)
			if err != nil {
				t.Fatal(err)
			}
			for _, imp := range parsed.Imports {
				path, _ := strconv.Unquote(imp.Path.Value)
				for _, bad := range forbidden {
					if path == bad {
						t.Errorf("%s imports %s: the verifier fetches nothing", f, path)
					}
				}
			}
		}
	}
}
