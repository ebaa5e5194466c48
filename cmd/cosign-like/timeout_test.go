package main

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/cosign-like/cosign-like/internal/netutil/netutiltest"
)

// boundedCommands are the commands that have --timeout: those that talk to a network
// (registries, the Sigstore services, a TUF mirror, an OIDC provider, a KMS through its
// plugin). Servers and whatever else runs until it is stopped are not among them.
var boundedCommands = []string{
	"attest", "attest-blob", "ca cert", "clean", "copy", "dev push-sample", "dev token",
	"download attestation", "download signature", "generate-key-pair", "initialize", "load",
	"log get", "log info", "log monitor", "log search", "log upload", "log verify", "public-key", "save", "sign", "sign-blob",
	"sign-bundle", "tree", "tuf add-target", "tuf init", "tuf remove-target", "tuf rotate",
	"tuf sign", "tuf timestamp", "verify", "verify-attestation", "verify-blob",
	"verify-blob-attestation", "verify-bundle",
}

// runUntilStopped are the commands that run until they are stopped: they never have a deadline.
var runUntilStopped = []string{"admission serve", "ca serve", "ct serve", "dev up", "log serve", "tsa serve", "tuf serve", "witness serve"}

func TestCommandsWithTimeout(t *testing.T) {
	var got []string
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if f := c.Flags().Lookup(timeoutFlag); f != nil {
			name := strings.TrimPrefix(c.CommandPath(), "cosign-like ")
			got = append(got, name)
			if _, ok := f.Annotations[liftedByAnnotation]; !ok {
				t.Errorf("%s: --timeout is not the flag boundInTime defines", name)
			}
			if f.DefValue != "3m0s" || f.Shorthand != "t" {
				t.Errorf("%s: -%s --timeout defaults to %s, want -t and 3m0s", name, f.Shorthand, f.DefValue)
			}
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	root := newRootCmd()
	walk(root)
	slices.Sort(got)
	if !slices.Equal(got, boundedCommands) {
		t.Errorf("commands with --timeout:\n got %q\nwant %q", got, boundedCommands)
	}
	for _, name := range runUntilStopped {
		if c, _, err := root.Find(strings.Fields(name)); err != nil || c.CommandPath() != "cosign-like "+name {
			t.Errorf("no command %q", name)
		}
		if slices.Contains(got, name) {
			t.Errorf("%s runs until it is stopped, yet has --timeout", name)
		}
	}
}

// deadlineCmd is a root with one command marked by boundInTime that reports its context's
// deadline and waits for the context to end when asked.
func deadlineCmd(deadline *time.Time, hasDeadline *bool) *cobra.Command {
	root := &cobra.Command{Use: "root", SilenceErrors: true, SilenceUsage: true}
	var wait bool
	cmd := &cobra.Command{Use: "sub", RunE: func(cmd *cobra.Command, _ []string) error {
		*deadline, *hasDeadline = cmd.Context().Deadline()
		if wait {
			<-cmd.Context().Done()
			return cmd.Context().Err()
		}
		return nil
	}}
	cmd.Flags().BoolVar(&wait, "wait", false, "")
	cmd.Flags().Bool("follow", false, "")
	root.AddCommand(boundInTime(cmd, "follow"))
	addDeadlines(root)
	return root
}

func TestTimeoutDeadline(t *testing.T) {
	tests := []struct {
		args         []string
		wantDeadline time.Duration // 0: none
		wantErr      string
	}{
		{nil, defaultTimeout, ""},
		{[]string{"--timeout", "10s"}, 10 * time.Second, ""},
		{[]string{"-t", "1m"}, time.Minute, ""},
		{[]string{"--timeout", "0"}, 0, ""},
		{[]string{"--follow"}, 0, ""},
		{[]string{"--follow", "--timeout", "1m"}, 0, "give --timeout or --follow, not both"},
		{[]string{"--timeout", "-1s"}, 0, "--timeout -1s: want a duration, or 0 for no limit"},
		{[]string{"--timeout", "50ms", "--wait"}, 50 * time.Millisecond, "context deadline exceeded (--timeout 50ms ran out)"},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			var deadline time.Time
			var has bool
			root := deadlineCmd(&deadline, &has)
			root.SetArgs(append([]string{"sub"}, tc.args...))
			start := time.Now()
			err := root.ExecuteContext(context.Background())
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("err = %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("err = %v, want %q", err, tc.wantErr)
			case tc.wantErr != "" && !has:
				return // refused before running
			}
			if has != (tc.wantDeadline > 0) {
				t.Fatalf("deadline set: %v, want %v", has, tc.wantDeadline > 0)
			}
			if has {
				if d := deadline.Sub(start); d < tc.wantDeadline || d > tc.wantDeadline+time.Second {
					t.Fatalf("deadline %s away, want %s", d, tc.wantDeadline)
				}
			}
			if strings.Contains(tc.wantErr, "ran out") && !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("error %v does not match context.DeadlineExceeded", err)
			}
		})
	}
}

// TestVerifyTimeout: verify against a registry that never answers ends at --timeout, naming
// the registry and what was awaited.
func TestVerifyTimeout(t *testing.T) {
	_, pub := keyPair(t, t.TempDir())
	p := netutiltest.Start(t, netutiltest.Silent, 0)
	start := time.Now()
	_, stderr, err := runKeysCmd(t, "verify", "--key", pub, "--insecure-ignore-tlog", "--timeout", "2s", p.Host+"/app:v1")
	elapsed := time.Since(start)
	if err == nil {
		t.Fatal("verify against a silent registry succeeded")
	}
	for _, want := range []string{p.Host, "waiting for response headers", "--timeout 2s ran out"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q\nstderr: %s", err, want, stderr)
		}
	}
	t.Logf("%v after %s", err, elapsed)
	if elapsed > 3500*time.Millisecond {
		t.Errorf("verify --timeout 2s returned after %s", elapsed)
	}
}
