package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

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

// terminalFD returns the file descriptor of in when it is a terminal.
func terminalFD(in io.Reader) (int, bool) {
	f, ok := in.(*os.File)
	if !ok {
		return 0, false
	}
	fd := int(f.Fd())
	return fd, term.IsTerminal(fd)
}

// confirmOverwrite asks before an existing file is replaced: with --yes it returns nil; on a
// terminal it asks "Overwrite (y/[N])?"; otherwise it refuses and names the flag that allows it.
func confirmOverwrite(cmd *cobra.Command, path string, yes bool) error {
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return nil
	} else if err != nil {
		return fmt.Errorf("checking %s: %w", path, err)
	}
	if yes {
		return nil
	}
	if _, ok := terminalFD(cmd.InOrStdin()); !ok {
		return fmt.Errorf("%s already exists: pass --yes to overwrite it", path)
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "File %s already exists. Overwrite (y/[N])? ", path)
	answer, err := bufio.NewReader(cmd.InOrStdin()).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("reading answer: %w", err)
	}
	if a := strings.ToLower(strings.TrimSpace(answer)); a != "y" && a != "yes" {
		return fmt.Errorf("%s already exists: not overwritten", path)
	}
	return nil
}
