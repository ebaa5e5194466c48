package main

import (
	"context"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cosign-like/cosign-like/pkg/tlog"
	"github.com/cosign-like/cosign-like/pkg/tlog/logclient"
	"github.com/cosign-like/cosign-like/pkg/tlog/logserver"
)

// witness init follows a log given by the log.pub that log init wrote; witness serve cosigns
// the log's checkpoint, and the cosignature verifies under the verifier key init printed.
func TestWitnessCommands(t *testing.T) {
	logDir, logURL := startLogServer(t)
	dir := filepath.Join(t.TempDir(), "witness")
	out, err := runLogCmd(t, "witness", "init", "--dir", dir, "--name", "witness.example.com/w1",
		"--log-key", filepath.Join(logDir, logserver.PublicKeyFile), "--log-url", logURL)
	if err != nil || !strings.Contains(out, "following 1 log(s)") || !strings.Contains(out, "name: witness.example.com/w1") {
		t.Fatalf("witness init: %v\n%s", err, out)
	}
	_, vkey, _ := strings.Cut(out, "verifier key: ")
	wk, err := tlog.ParseVerifierKey(strings.TrimSpace(vkey))
	if err != nil {
		t.Fatalf("printed verifier key: %v\n%s", err, out)
	}
	verifier, err := wk.CosignatureVerifier()
	if err != nil {
		t.Fatal(err)
	}
	url, stop := runServerCmd(t, "witness", "serve", "--dir", dir)

	c, err := logclient.NewClient(logURL)
	if err != nil {
		t.Fatal(err)
	}
	cp, err := c.ReadCheckpoint(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	line := addCheckpoint(t, url, cp)
	if _, err := verifier.VerifyNote(append(cp, line...)); err != nil {
		t.Fatalf("cosignature: %v", err)
	}
	if err := stop(); err != nil {
		t.Fatalf("witness serve: %v", err)
	}

	failures := []struct {
		args []string
		want string
	}{
		{[]string{"witness", "init", "--dir", t.TempDir()}, "--name is required"},
		{[]string{"witness", "init", "--dir", dir, "--name", "w"}, "refusing to replace the witness key"},
		{[]string{"witness", "init", "--dir", t.TempDir(), "--name", "w", "--log-key", filepath.Join(logDir, logserver.PublicKeyFile)}, "give one --log-url for each --log-key"},
		{[]string{"witness", "init", "--dir", t.TempDir(), "--name", "w", "--log", "not-a-vkey"}, "malformed note verifier key"},
		{[]string{"witness", "serve", "--dir", t.TempDir()}, "not initialized"},
		{[]string{"witness", "serve", "--dir", dir, "--log-format", "xml"}, "want text or json"},
	}
	for _, f := range failures {
		out, err := runLogCmd(t, f.args...)
		if err == nil || !strings.Contains(err.Error()+out, f.want) {
			t.Errorf("%v: %v\n%s\nwant %q", f.args, err, out, f.want)
		}
	}
}

// addCheckpoint submits a log's first checkpoint (old size 0) to the witness at url and returns
// its cosignature line; it fails the test unless the witness answers 200.
func addCheckpoint(t *testing.T, url string, cp []byte) []byte {
	t.Helper()
	body := (&tlog.AddCheckpointRequest{Checkpoint: cp}).Marshal()
	resp, err := http.Post(url+"/add-checkpoint", "text/plain", strings.NewReader(string(body)))
	if err != nil {
		t.Fatal(err)
	}
	line, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("add-checkpoint: %d %s", resp.StatusCode, line)
	}
	return line
}
