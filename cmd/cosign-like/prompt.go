package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
)

// confirm asks the user to confirm a destructive or public action unless skip is set. It reads
// the answer from the command's input and refuses when that is not an interactive answer.
func confirm(cmd *cobra.Command, skip bool, question string) error {
	if skip {
		return nil
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "%s [y/N] ", question)
	var answer string
	if _, err := fmt.Fscanln(cmd.InOrStdin(), &answer); err != nil {
		return fmt.Errorf("no confirmation given (use -y to skip the prompt)")
	}
	switch strings.ToLower(strings.TrimSpace(answer)) {
	case "y", "yes":
		return nil
	}
	return fmt.Errorf("not confirmed")
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
