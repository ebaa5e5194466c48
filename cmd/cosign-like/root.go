package main

import (
	"github.com/spf13/cobra"
)

// commandConstructors is filled by init functions in this package, one per command file, so that
// each command lives in its own file. It is written only during package initialisation.
var commandConstructors []func() *cobra.Command

// addCommand registers a top-level command. Call it from an init function.
func addCommand(newCmd func() *cobra.Command) {
	commandConstructors = append(commandConstructors, newCmd)
}

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "cosign-like",
		Short: "Sign and verify container images and artifacts, Sigstore-compatible",
		Long: `cosign-like signs and verifies OCI images and blobs, stores signatures and
attestations in OCI registries beside what they sign, and runs the servers that keyless
signing needs (CA with CT log, transparency log, timestamp authority).`,
		SilenceUsage:      true,
		SilenceErrors:     true,
		PersistentPreRunE: checkRequiredFlags,
	}
	for _, newCmd := range commandConstructors {
		root.AddCommand(newCmd())
	}
	addDeadlines(root)
	addFlagHints(root)
	return root
}
