package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/cosign-like/cosign-like/pkg/signer"
)

// passwordEnv names the environment variable that supplies key passwords, as in cosign.
const passwordEnv = "COSIGN_PASSWORD"

// keyPasswordFunc returns the PasswordFunc the commands give to pkg/signer: the value of
// COSIGN_PASSWORD when it is set (even to the empty string), else a prompt on the terminal
// (twice when a key is created). Without either, it fails with a message saying what to do.
func keyPasswordFunc(cmd *cobra.Command) signer.PasswordFunc {
	return passwordFunc(cmd, stdinTerminal(cmd))
}

// terminal reads passwords without echo from a terminal file descriptor.
type terminal struct {
	fd   int
	read func(fd int) ([]byte, error)
}

// stdinTerminal returns the command's stdin as a terminal, or nil when it is not one.
func stdinTerminal(cmd *cobra.Command) *terminal {
	fd, ok := terminalFD(cmd.InOrStdin())
	if !ok {
		return nil
	}
	return &terminal{fd: fd, read: term.ReadPassword}
}

func passwordFunc(cmd *cobra.Command, tty *terminal) signer.PasswordFunc {
	return func(confirm bool) ([]byte, error) {
		if pw, ok := os.LookupEnv(passwordEnv); ok {
			return []byte(pw), nil
		}
		if tty == nil {
			return nil, fmt.Errorf("no password: set %s or run in a terminal", passwordEnv)
		}
		errOut := cmd.ErrOrStderr()
		fmt.Fprint(errOut, "Enter password for private key: ")
		pw1, err := tty.read(tty.fd)
		fmt.Fprintln(errOut)
		if err != nil {
			return nil, fmt.Errorf("reading password: %w", err)
		}
		if !confirm {
			return pw1, nil
		}
		fmt.Fprint(errOut, "Enter password for private key again: ")
		pw2, err := tty.read(tty.fd)
		fmt.Fprintln(errOut)
		if err != nil {
			return nil, fmt.Errorf("reading password: %w", err)
		}
		if !bytes.Equal(pw1, pw2) {
			return nil, errors.New("passwords do not match")
		}
		return pw1, nil
	}
}
