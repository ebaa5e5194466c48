package depcheck

import (
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/cosign-like/cosign-like"

// forbidden lists, per package, imports it must not have directly.
var forbidden = map[string][]string{
	module + "/pkg/verify":  {"net/http", "net", module + "/pkg/oci", module + "/pkg/cosign", module + "/pkg/ca", module + "/pkg/tsa"},
	module + "/pkg/bundle":  {"net/http", "net", module + "/pkg/oci", module + "/pkg/cosign"},
	module + "/pkg/oci":     {"crypto/x509", module + "/pkg/signer", module + "/pkg/verify", module + "/pkg/bundle", module + "/pkg/ca"},
	module + "/pkg/certext": {"net/http", "net"},
	module + "/pkg/signer":  {module + "/pkg/oci", "github.com/google/go-containerregistry/pkg/v1/remote"},
}

func TestImportBoundaries(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}}{{range .Imports}} {{.}}{{end}}`, module+"/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	checked := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		pkg, imports := fields[0], fields[1:]
		for _, imp := range imports {
			if strings.HasPrefix(pkg, module+"/pkg/") && strings.HasPrefix(imp, module+"/cmd/") {
				t.Errorf("%s imports the command line %s", pkg, imp)
			}
			for _, bad := range forbidden[pkg] {
				if imp == bad {
					t.Errorf("%s must not import %s", pkg, bad)
				}
			}
		}
		if _, ok := forbidden[pkg]; ok {
			checked++
		}
	}
	if checked != len(forbidden) {
		t.Fatalf("checked %d of the %d packages with rules: a package was renamed?", checked, len(forbidden))
	}
}
