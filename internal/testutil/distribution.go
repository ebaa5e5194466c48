package testutil

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// DistributionBinary returns the path of Debian's docker-registry (distribution 2.8), from
// $COSIGN_LIKE_DOCKER_REGISTRY or PATH, or "" when it is not installed.
func DistributionBinary() string {
	if p := os.Getenv("COSIGN_LIKE_DOCKER_REGISTRY"); p != "" {
		return p
	}
	if p, err := exec.LookPath("docker-registry"); err == nil {
		return p
	}
	return ""
}

// WantDistribution reports whether tests should run against docker-registry: not in -short
// mode, and only when it is installed or required (RequireAll, where its absence fails).
func WantDistribution() bool {
	return !testing.Short() && (DistributionBinary() != "" || RequireAll())
}

// RequireAll reports whether missing external programs must fail tests rather than skip
// them ($CI or $COSIGN_LIKE_REQUIRE_ALL set).
func RequireAll() bool {
	return os.Getenv("CI") != "" || os.Getenv("COSIGN_LIKE_REQUIRE_ALL") != ""
}

// StartDistribution starts Debian's docker-registry (distribution 2.8, no referrers API) as a
// process listening on a free 127.0.0.1 port, with filesystem storage in a temporary
// directory and deletes enabled, waits until /v2/ answers, and kills it when the test ends.
// It returns host:port. Without the binary the test is skipped, or fails when RequireAll;
// in -short mode it is skipped.
func StartDistribution(tb testing.TB) string {
	tb.Helper()
	if testing.Short() {
		tb.Skip("-short: not starting the docker-registry process")
	}
	bin := DistributionBinary()
	if bin == "" {
		if RequireAll() {
			tb.Fatal("docker-registry (distribution 2.8) is not installed: apt-get install -y docker-registry")
		}
		tb.Skip("docker-registry (distribution 2.8) is not installed; apt-get install -y docker-registry (set CI or COSIGN_LIKE_REQUIRE_ALL to make this fatal)")
	}
	var lastErr error
	// The port is free when chosen but another process may take it before the registry
	// binds it: try a few ports.
	for attempt := 0; attempt < 3; attempt++ {
		addr, err := startDistribution(tb, bin)
		if err == nil {
			return addr
		}
		lastErr = err
	}
	tb.Fatalf("starting docker-registry: %v", lastErr)
	return ""
}

// startDistribution starts one registry process; it returns an error when the process exits
// before answering, and fails the test on other problems.
func startDistribution(tb testing.TB, bin string) (string, error) {
	tb.Helper()
	dir := tb.TempDir()
	addr := FreeAddr(tb)
	cfg := fmt.Sprintf(`version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: %s
  delete:
    enabled: true
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: %s
`, filepath.Join(dir, "data"), addr)
	cfgPath := filepath.Join(dir, "config.yml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		tb.Fatalf("writing registry config: %v", err)
	}
	logPath := filepath.Join(dir, "registry.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		tb.Fatalf("creating registry log: %v", err)
	}
	cmd := exec.Command(bin, "serve", cfgPath)
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	if err := cmd.Start(); err != nil {
		logFile.Close()
		tb.Fatalf("starting %s: %v", bin, err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stop := func() {
		_ = cmd.Process.Kill()
		<-exited
		logFile.Close()
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		select {
		case err := <-exited:
			out, _ := os.ReadFile(logPath)
			logFile.Close()
			return "", fmt.Errorf("docker-registry exited early: %v\n%s", err, out)
		default:
		}
		if ready(addr) {
			tb.Cleanup(stop)
			return addr, nil
		}
		if time.Now().After(deadline) {
			stop()
			out, _ := os.ReadFile(logPath)
			tb.Fatalf("docker-registry did not answer on %s within 15s\n%s", addr, out)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func ready(addr string) bool {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/v2/", nil)
	if err != nil {
		return false
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// FreeAddr returns a 127.0.0.1 address with a port that was free a moment ago.
func FreeAddr(tb testing.TB) string {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("finding a free port: %v", err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}
