package witness

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cosign-like/cosign-like/pkg/tlog"
)

func TestInitWritesKeyAndConfig(t *testing.T) {
	lg := newMemLog(t, "log.example.com", 1)
	dir := filepath.Join(t.TempDir(), "w")
	if err := Init(context.Background(), dir, InitOptions{Name: "witness.example.com/w1", Logs: []LogConfig{lg.config(t)}}); err != nil {
		t.Fatal(err)
	}
	for name, mode := range map[string]os.FileMode{PrivateKeyFile: 0o600, VerifierKeyFile: 0o644, ConfigFile: 0o644} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil || fi.Mode().Perm() != mode {
			t.Fatalf("%s: %v, %v; want mode %v", name, fi, err, mode)
		}
	}
	if fi, err := os.Stat(filepath.Join(dir, StateDir)); err != nil || !fi.IsDir() {
		t.Fatalf("state directory: %v", err)
	}
	signer, err := LoadSigner(dir)
	if err != nil {
		t.Fatal(err)
	}
	vkey, _ := os.ReadFile(filepath.Join(dir, VerifierKeyFile))
	k, err := tlog.ParseVerifierKey(strings.TrimSpace(string(vkey)))
	if err != nil || k.Type != tlog.NoteKeyCosignatureV1 || k.Name != "witness.example.com/w1" || k.ID != signer.Verifier().KeyID() {
		t.Fatalf("verifier key %q: %+v %v", vkey, k, err)
	}
	cfg, err := LoadConfig(dir)
	if err != nil || cfg.Name != "witness.example.com/w1" || len(cfg.Logs) != 1 || cfg.Logs[0].VerifierKey != lg.config(t).VerifierKey {
		t.Fatalf("config %+v %v", cfg, err)
	}
	if err := Init(context.Background(), dir, InitOptions{Name: "witness.example.com/w1"}); err == nil || !strings.Contains(err.Error(), "refusing to replace") {
		t.Fatalf("second Init: %v", err)
	}
	// A witness with no log yet starts, and knows no origin.
	empty := t.TempDir()
	if err := Init(context.Background(), empty, InitOptions{Name: "w"}); err != nil {
		t.Fatal(err)
	}
	w := startWitness(t, empty, nil)
	wantStatus(t, w.addFrom(t, lg.grow(1, "a"), 0, 1), 404, "unknown log")
	if !strings.Contains(w.logs.String(), "follows no log") {
		t.Fatalf("no warning:\n%s", w.logs.String())
	}
}

func TestInitAndOpenRefuse(t *testing.T) {
	lg := newMemLog(t, "log.example.com", 1)
	good := lg.config(t)
	witnessKey := testCosigner(t)
	tests := []struct {
		name string
		opts InitOptions
		want string
	}{
		{"empty_name", InitOptions{}, "witness name"},
		{"name_with_space", InitOptions{Name: "a b"}, "witness name"},
		{"origin_not_the_key_name", InitOptions{Name: "w", Logs: []LogConfig{{Origin: "other.example.com", VerifierKey: good.VerifierKey}}}, `its verifier key is named "log.example.com"`},
		{"malformed_vkey", InitOptions{Name: "w", Logs: []LogConfig{{VerifierKey: "log.example.com+0000+AAAA"}}}, "malformed note verifier key"},
		{"cosignature_key_as_log_key", InitOptions{Name: "w", Logs: []LogConfig{{VerifierKey: witnessKey}}}, "unsupported log key type"},
		{"origin_twice", InitOptions{Name: "w", Logs: []LogConfig{good, {VerifierKey: good.VerifierKey}}}, "listed twice"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "w")
			err := Init(context.Background(), dir, tc.opts)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Init: %v, want %q", err, tc.want)
			}
			if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
				t.Fatalf("a refused Init left %s behind", dir)
			}
		})
	}
	if _, err := Open(context.Background(), t.TempDir(), Options{}); !errors.Is(err, ErrNotInitialized) {
		t.Fatalf("Open of an empty directory: %v", err)
	}
	dir := initDir(t, lg)
	if err := os.WriteFile(filepath.Join(dir, ConfigFile), []byte(`{"name": "w2", "logs": []}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(context.Background(), dir, Options{}); err == nil || !strings.Contains(err.Error(), `names the witness "witness.example.com/w1"`) {
		t.Fatalf("Open with a renamed witness: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, ConfigFile), []byte(`{"name": "witness.example.com/w1", "logz": []}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(context.Background(), dir, Options{}); err == nil || !strings.Contains(err.Error(), "unknown field") {
		t.Fatalf("Open with a misspelt field: %v", err)
	}
}

// testCosigner is a cosignature vkey, which is no log key.
func testCosigner(t *testing.T) string {
	t.Helper()
	s, err := tlog.NewCosignatureSigner("w", newMemLog(t, "x", 9).priv)
	if err != nil {
		t.Fatal(err)
	}
	return s.Verifier().VerifierKey().String()
}
