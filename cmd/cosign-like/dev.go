package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/cosign-like/cosign-like/internal/fsutil"
	"github.com/cosign-like/cosign-like/internal/httpserver"
	"github.com/cosign-like/cosign-like/pkg/devstack"
)

func init() { addCommand(newDevCmd) }

// devOptions are the flags of `dev up` and `dev down`.
type devOptions struct {
	dir    string
	detach bool
	// addrs are the listen addresses, by server name (registry, oidc, ct, ca, witness, log, tsa,
	// tuf).
	addrs map[string]*string
}

// devServers are the servers of the stack, in the order their address flags are listed.
var devServers = []string{"registry", "oidc", "ca", "ct", "witness", "log", "tsa", "tuf"}

// addrFlags returns the flags that give each server's address, for re-running `dev up`.
func (o *devOptions) addrFlags() []string {
	var args []string
	for _, s := range devServers {
		args = append(args, "--"+s+"-addr", *o.addrs[s])
	}
	return args
}

func (o *devOptions) config(logger *slog.Logger) devstack.Config {
	return devstack.Config{
		Dir: o.dir, Logger: logger,
		RegistryAddr: *o.addrs["registry"], OIDCAddr: *o.addrs["oidc"], CAAddr: *o.addrs["ca"],
		CTAddr: *o.addrs["ct"], WitnessAddr: *o.addrs["witness"], LogAddr: *o.addrs["log"],
		TSAAddr: *o.addrs["tsa"], TUFAddr: *o.addrs["tuf"],
	}
}

func defaultDevDir() string {
	if home, err := os.UserHomeDir(); err == nil {
		return filepath.Join(home, ".cosign-like", "dev")
	}
	return filepath.Join(os.TempDir(), "cosign-like-dev")
}

func newDevCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "dev",
		Short: "Run the embedded local stack for development and demos",
	}
	cmd.AddCommand(newDevUpCmd(), newDevDownCmd(), newDevTokenCmd(), newDevPushSampleCmd())
	return cmd
}

func newDevUpCmd() *cobra.Command {
	var o devOptions
	cmd := &cobra.Command{
		Use:   "up",
		Short: "Start the local stack on 127.0.0.1 and print the environment a client needs",
		Long: `Start the local stack (an OCI registry with the referrers API, and the servers keyless
signing needs) on loopback addresses, and print shell export lines for the client:

  eval "$(cosign-like dev up --detach)"

The registry keeps blobs on disk under --dir, but its manifests live in memory: they last as
long as the stack runs.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.detach {
				return devUpDetached(cmd, &o)
			}
			return devUp(cmd, &o)
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&o.dir, "dir", defaultDevDir(), "state directory of the stack")
	fs.BoolVar(&o.detach, "detach", false, "run in the background until dev down")
	o.addrs = map[string]*string{}
	for _, srv := range devServers {
		o.addrs[srv] = fs.String(srv+"-addr", "127.0.0.1:0", srv+" listen address (loopback only; port 0 picks a free one)")
	}
	return cmd
}

func envFile(dir string) string { return filepath.Join(dir, "env") }
func pidFile(dir string) string { return filepath.Join(dir, "dev.pid") }

// devUp runs the stack in the foreground until interrupted.
func devUp(cmd *cobra.Command, o *devOptions) error {
	ctx := cmd.Context()
	if pid, err := readPID(o.dir); err == nil && processAlive(pid) {
		return fmt.Errorf("a dev stack (pid %d) already runs with state in %s: run `cosign-like dev down --dir %s` first", pid, o.dir, o.dir)
	}
	logger, err := newServerLogger(cmd, httpserver.TextFormat, "info")
	if err != nil {
		return err
	}
	st, err := devstack.Start(ctx, o.config(logger))
	if err != nil {
		return err
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = st.Close(sctx)
		_ = os.Remove(envFile(o.dir))
		_ = os.Remove(pidFile(o.dir))
	}()
	exports := devstack.ExportLines(st.Env())
	if err := os.WriteFile(pidFile(o.dir), []byte(strconv.Itoa(os.Getpid())+"\n"), 0o600); err != nil {
		return err
	}
	// The env file is written last: its presence means the stack is ready.
	if err := fsutil.WriteFileAtomic(envFile(o.dir), []byte(exports), 0o600); err != nil {
		return err
	}
	fmt.Fprint(cmd.OutOrStdout(), exports)
	<-ctx.Done()
	return nil
}

// devUpDetached starts `dev up` as a background process and prints its environment once it is
// ready.
func devUpDetached(cmd *cobra.Command, o *devOptions) error {
	if err := os.MkdirAll(o.dir, 0o700); err != nil {
		return err
	}
	if pid, err := readPID(o.dir); err == nil && processAlive(pid) {
		return fmt.Errorf("a dev stack (pid %d) already runs with state in %s: run `cosign-like dev down --dir %s` first", pid, o.dir, o.dir)
	}
	_ = os.Remove(envFile(o.dir))
	self, err := os.Executable()
	if err != nil {
		return err
	}
	logPath := filepath.Join(o.dir, "dev.log")
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	defer logf.Close()
	child := exec.Command(self, append([]string{"dev", "up", "--dir", o.dir}, o.addrFlags()...)...)
	child.Stdout, child.Stderr = logf, logf
	child.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := child.Start(); err != nil {
		return fmt.Errorf("starting the dev stack: %w", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- child.Wait() }()
	deadline := time.NewTimer(30 * time.Second)
	defer deadline.Stop()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case err := <-exited:
			tail, _ := os.ReadFile(logPath)
			return fmt.Errorf("the dev stack exited during start-up (%v):\n%s", err, tail)
		case <-deadline.C:
			_ = child.Process.Kill()
			return fmt.Errorf("the dev stack did not become ready in 30s; see %s", logPath)
		case <-tick.C:
			if env, err := os.ReadFile(envFile(o.dir)); err == nil {
				fmt.Fprint(cmd.OutOrStdout(), string(env))
				fmt.Fprintf(cmd.ErrOrStderr(), "dev stack running (pid %d); logs in %s; stop it with `cosign-like dev down --dir %s`\n", child.Process.Pid, logPath, o.dir)
				return nil
			}
		}
	}
}

func newDevDownCmd() *cobra.Command {
	var o devOptions
	cmd := &cobra.Command{
		Use:   "down",
		Short: "Stop a local stack started with `dev up --detach`",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			pid, err := readPID(o.dir)
			if err != nil {
				return fmt.Errorf("no dev stack runs with state in %s", o.dir)
			}
			if err := syscall.Kill(pid, syscall.SIGTERM); err != nil && !errors.Is(err, syscall.ESRCH) {
				return fmt.Errorf("stopping the dev stack (pid %d): %w", pid, err)
			}
			for i := 0; i < 100 && processAlive(pid); i++ {
				time.Sleep(50 * time.Millisecond)
			}
			if processAlive(pid) {
				return fmt.Errorf("the dev stack (pid %d) did not stop within 5s", pid)
			}
			_ = os.Remove(pidFile(o.dir))
			fmt.Fprintln(cmd.ErrOrStderr(), "dev stack stopped; the registry's manifests are gone with it (blobs stay under "+o.dir+")")
			return nil
		},
	}
	cmd.Flags().StringVar(&o.dir, "dir", defaultDevDir(), "state directory of the stack")
	return cmd
}

func readPID(dir string) (int, error) {
	b, err := os.ReadFile(pidFile(dir))
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(strings.TrimSpace(string(b)))
}

func processAlive(pid int) bool {
	if pid <= 0 {
		return false
	}
	return syscall.Kill(pid, 0) == nil
}

func newDevPushSampleCmd() *cobra.Command {
	var platforms []string
	cmd := &cobra.Command{
		Use:   "push-sample IMAGE",
		Short: "Push a small sample image (or, with --platform, an index) and print its digest reference",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			d, err := devstack.PushSample(cmd.Context(), args[0], platforms, devRemoteOptions(args[0])...)
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), d.String())
			return nil
		},
	}
	cmd.Flags().StringSliceVar(&platforms, "platform", nil, "push an index with one image per platform (e.g. linux/amd64,linux/arm64)")
	return boundInTime(cmd)
}
