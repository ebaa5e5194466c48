package depcheck

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/cosign-like/cosign-like"

// forbidden lists, per package, imports it must not have directly.
var forbidden = map[string][]string{
	module + "/pkg/verify":  {"net/http", "net", module + "/pkg/oci", module + "/pkg/cosign", module + "/pkg/ca", module + "/pkg/tsa", module + "/pkg/tlog/logserver", module + "/pkg/tlog/logclient"},
	module + "/pkg/bundle":  {"net/http", "net", module + "/pkg/oci", module + "/pkg/cosign"},
	module + "/pkg/oci":     {"crypto/x509", module + "/pkg/signer", module + "/pkg/verify", module + "/pkg/bundle", module + "/pkg/ca"},
	module + "/pkg/certext": {"net/http", "net"},
	module + "/pkg/signer":  {module + "/pkg/oci", "github.com/google/go-containerregistry/pkg/v1/remote"},
}

// leaves are helpers any package may import (pkg/oci included): they import nothing of this module.
var leaves = []string{module + "/internal/fsutil", module + "/internal/limitio", module + "/internal/netutil", module + "/internal/netutil/netutiltest"}

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
			if slices.Contains(leaves, pkg) && strings.HasPrefix(imp, module+"/") {
				t.Errorf("%s imports %s: it must stay a leaf", pkg, imp)
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

// offline lists the packages that must link no network, storage or metrics code at all, however
// indirectly: the verifier and the pure code it is built on. Each entry of offlineForbidden is
// an import path or, ending in "/", a prefix of import paths.
var offline = []string{
	module + "/pkg/verify",
	module + "/pkg/tlog",
	module + "/pkg/tlog/rekortypes",
	module + "/pkg/bundle",
	module + "/pkg/certext",
}

var offlineForbidden = []string{
	"net/http",
	"database/sql",
	"github.com/transparency-dev/tessera/",
	"github.com/transparency-dev/tessera",
	"github.com/prometheus/",
	"github.com/go-sql-driver/",
	"github.com/google/certificate-transparency-go/client",
	"github.com/google/certificate-transparency-go/ctutil",
	module + "/pkg/tlog/",
	module + "/pkg/oci",
}

// TestOfflineDependencies checks transitive dependencies (go list -deps), as
// go-containerregistry's depcheck does: a direct-import rule misses a package that reaches the
// network through another.
func TestOfflineDependencies(t *testing.T) {
	for _, pkg := range offline {
		out, err := exec.Command("go", "list", "-deps", pkg).Output()
		if err != nil {
			t.Fatalf("go list -deps %s: %v", pkg, err)
		}
		deps := strings.Fields(string(out))
		if len(deps) < 2 {
			t.Fatalf("go list -deps %s listed %d packages", pkg, len(deps))
		}
		for _, dep := range deps {
			if dep == pkg {
				continue
			}
			for _, bad := range offlineForbidden {
				if dep == bad || (strings.HasSuffix(bad, "/") && strings.HasPrefix(dep, bad)) {
					t.Errorf("%s depends on %s (through some import): it must link no network, storage or metrics code", pkg, dep)
				}
			}
		}
	}
}

// TestTestutilImportsNoProductCode keeps internal/testutil free of the module's other packages,
// however indirectly, so that every package's internal tests can use it without an import
// cycle; the starters of the module's servers live in internal/testutil/testservers.
func TestTestutilImportsNoProductCode(t *testing.T) {
	pkg := module + "/internal/testutil"
	out, err := exec.Command("go", "list", "-deps", pkg).Output()
	if err != nil {
		t.Fatalf("go list -deps %s: %v", pkg, err)
	}
	for _, dep := range strings.Fields(string(out)) {
		if dep != pkg && strings.HasPrefix(dep, module+"/") {
			t.Errorf("%s depends on %s: it must not import the module's packages", pkg, dep)
		}
	}
}
