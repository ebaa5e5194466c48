package main

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// scriptedTerminal answers password reads with the given lines, then fails.
func scriptedTerminal(lines ...string) *terminal {
	return &terminal{read: func(int) ([]byte, error) {
		if len(lines) == 0 {
			return nil, errors.New("terminal closed")
		}
		l := lines[0]
		lines = lines[1:]
		return []byte(l), nil
	}}
}

func TestPasswordFunc(t *testing.T) {
	unsetCosignPassword(t)
	tests := []struct {
		name    string
		tty     *terminal
		confirm bool
		want    string
		err     string
	}{
		{"single prompt", scriptedTerminal("pw"), false, "pw", ""},
		{"confirmed", scriptedTerminal("pw", "pw"), true, "pw", ""},
		{"mismatch", scriptedTerminal("pw", "wp"), true, "", "passwords do not match"},
		{"closed", scriptedTerminal(), false, "", "reading password: terminal closed"},
		{"closed on confirmation", scriptedTerminal("pw"), true, "", "reading password: terminal closed"},
		{"no terminal", nil, false, "", "no password: set COSIGN_PASSWORD or run in a terminal"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cmd := &cobra.Command{}
			var stderr bytes.Buffer
			cmd.SetErr(&stderr)
			got, err := passwordFunc(cmd, tc.tty)(tc.confirm)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || string(got) != tc.want {
				t.Fatalf("got %q, %v", got, err)
			}
			if tc.confirm && !strings.Contains(stderr.String(), "Enter password for private key again: ") {
				t.Fatalf("no confirmation prompt: %q", stderr.String())
			}
		})
	}
	// COSIGN_PASSWORD, even empty, wins over the terminal.
	t.Setenv(passwordEnv, "")
	got, err := passwordFunc(&cobra.Command{}, scriptedTerminal("tty"))(true)
	if err != nil || string(got) != "" {
		t.Fatalf("empty COSIGN_PASSWORD: got %q, %v", got, err)
	}
}
