// Command loadgen-tlog measures a transparency log under load: entries/s and append latency
// (request until the inclusion proof is returned) at several client counts, and the server's
// memory. With --bin it starts its own `cosign-like log serve` on loopback in a temporary
// directory; with --url it drives a running log on a loopback address.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/cosign-like/cosign-like/internal/loadgen"
	"github.com/cosign-like/cosign-like/pkg/tlog"
	"github.com/cosign-like/cosign-like/pkg/tlog/logclient"
	"github.com/cosign-like/cosign-like/pkg/tlog/logserver"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:])
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadgen-tlog:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) error {
	fl := flag.NewFlagSet("loadgen-tlog", flag.ContinueOnError)
	bin := fl.String("bin", "", "cosign-like binary: start a fresh log server with it")
	target := fl.String("url", "", "URL of a running log (loopback only), instead of --bin")
	clients := fl.String("clients", "1,64,256,1024", "comma-separated client counts, one run each")
	entries := fl.Int("entries", 20000, "most entries per run")
	duration := fl.Duration("duration", 15*time.Second, "longest time per run")
	storage := fl.String("storage", "", "with --bin: storage flag for log serve (default POSIX files)")
	if err := fl.Parse(args); err != nil {
		return err
	}
	var counts []int
	for _, s := range strings.Split(*clients, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 || n > loadgen.MaxClients {
			return fmt.Errorf("--clients: bad count %q", s)
		}
		counts = append(counts, n)
	}
	url, pid, dir := *target, 0, ""
	if *bin != "" {
		srv, err := startServer(ctx, *bin, *storage)
		if err != nil {
			return err
		}
		defer srv.stop()
		url, pid, dir = srv.url, srv.cmd.Process.Pid, srv.dir
	}
	if url == "" {
		return fmt.Errorf("pass --bin (start a server) or --url (a running loopback log)")
	}
	fmt.Printf("preparing %d signed requests per run...\n", *entries)
	for _, n := range counts {
		bodies, err := loadgen.Prepare(*entries)
		if err != nil {
			return err
		}
		before := scrapeGroups(ctx, url)
		res, err := loadgen.Run(ctx, loadgen.Config{URL: url, Clients: n, Entries: *entries, Duration: *duration}, bodies)
		if err != nil {
			return err
		}
		line := res.String()
		if after := scrapeGroups(ctx, url); after.count > before.count {
			groups := after.count - before.count
			line += fmt.Sprintf(" groups=%.0f avg-group=%.0f avg-group-write=%.0fms", groups,
				(after.entries-before.entries)/groups, 1000*(after.seconds-before.seconds)/groups)
		}
		if pid != 0 {
			rss, peak, err := loadgen.ProcessRSS(pid)
			if err == nil {
				line += fmt.Sprintf(" server-rss=%dMiB peak-rss=%dMiB", rss>>20, peak>>20)
			}
		}
		fmt.Println(line)
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	if dir != "" {
		size, bytes, err := storagePerEntry(ctx, url, dir)
		if err == nil && size > 0 {
			fmt.Printf("storage: %d entries in %d bytes under %s (%d bytes/entry, including tiles)\n", size, bytes, filepath.Join(dir, logserver.DataDir), bytes/int64(size))
		}
	}
	return nil
}

// groupStats are the server's group-commit counters, from /metrics.
type groupStats struct{ count, entries, seconds float64 }

func scrapeGroups(ctx context.Context, url string) groupStats {
	var g groupStats
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url+"/metrics", nil)
	if err != nil {
		return g
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return g
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) != 2 {
			continue
		}
		v, _ := strconv.ParseFloat(f[1], 64)
		switch f[0] {
		case "tlog_group_entries_count":
			g.count = v
		case "tlog_group_entries_sum":
			g.entries = v
		case "tlog_group_write_seconds_sum":
			g.seconds = v
		}
	}
	return g
}

type server struct {
	cmd *exec.Cmd
	url string
	dir string
}

func (s *server) stop() {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		_ = s.cmd.Process.Kill()
		<-done
	}
	_ = os.RemoveAll(s.dir)
}

// startServer initializes a log in a temporary directory and serves it on a free loopback port.
func startServer(ctx context.Context, bin, storage string) (*server, error) {
	dir, err := os.MkdirTemp("", "loadgen-tlog-")
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := ln.Addr().String()
	ln.Close()
	url := "http://" + addr
	if out, err := exec.CommandContext(ctx, bin, "log", "init", "--dir", dir, "--url", url).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("log init: %v: %s", err, out)
	}
	args := []string{"log", "serve", "--dir", dir, "--addr", addr, "--log-level", "warn"}
	if storage != "" {
		args = append(args, "--storage", storage)
	}
	cmd := exec.Command(bin, args...)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting log serve: %w", err)
	}
	s := &server{cmd: cmd, url: url, dir: dir}
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(url + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s, nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	s.stop()
	return nil, fmt.Errorf("log server at %s did not become healthy", url)
}

// storagePerEntry returns the tree size and the bytes stored under dir/data.
func storagePerEntry(ctx context.Context, url, dir string) (uint64, int64, error) {
	c, err := logclient.NewClient(url)
	if err != nil {
		return 0, 0, err
	}
	raw, err := c.ReadCheckpoint(ctx)
	if err != nil {
		return 0, 0, err
	}
	key, err := logserver.LoadLogKey(dir)
	if err != nil {
		return 0, 0, err
	}
	cp, _, err := tlog.OpenCheckpoint(raw, []tlog.LogKey{key})
	if err != nil {
		return 0, 0, err
	}
	var total int64
	err = filepath.WalkDir(filepath.Join(dir, logserver.DataDir), func(_ string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err == nil {
			total += info.Size()
		}
		return nil
	})
	return cp.Size, total, err
}
