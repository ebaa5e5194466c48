package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// Flag annotations of this command line, beside cobra's own.
const (
	// purposeAnnotation holds what a required flag gives, for the message naming it missing.
	purposeAnnotation = "cosign-like/purpose"
	// oneOfAnnotation holds the flags of an exactly-one-of group, one annotation value each.
	oneOfAnnotation = "cosign-like/one-of"
)

// markRequired marks the flag name of fs required (cobra's MarkFlagRequired: completions offer
// it, cobra refuses to run without it). purpose, when not empty, says what the flag gives; the
// message for a missing flag ends with it.
func markRequired(fs *pflag.FlagSet, name, purpose string) {
	mustMark(cobra.MarkFlagRequired(fs, name))
	if purpose != "" {
		mustMark(fs.SetAnnotation(name, purposeAnnotation, []string{purpose}))
	}
}

// markOneOf says that exactly one of the flags names must be given (cobra's
// MarkFlagsOneRequired and MarkFlagsMutuallyExclusive).
func markOneOf(cmd *cobra.Command, names ...string) {
	cmd.MarkFlagsOneRequired(names...)
	cmd.MarkFlagsMutuallyExclusive(names...)
	for _, name := range names {
		mustMark(cmd.Flags().SetAnnotation(name, oneOfAnnotation, names))
	}
}

// mustMark panics when a flag to mark is not defined: a mistake in this package, which every
// command's construction in the tests reaches.
func mustMark(err error) {
	if err != nil {
		panic(err)
	}
}

// checkRequiredFlags is the root's PersistentPreRunE, so it runs before cobra checks the flags
// marked required and grouped (its words: `required flag(s) "dir" not set`). It reports the
// same omissions in this command line's words: "--dir is required: <purpose>", "--dir and --url
// are required", "--slot-id or --token-label is required", "give --slot-id or --token-label, not
// both".
func checkRequiredFlags(cmd *cobra.Command, _ []string) error {
	var missing []*pflag.Flag
	var groups [][]string
	seen := map[string]bool{}
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		if req := f.Annotations[cobra.BashCompOneRequiredFlag]; len(req) == 1 && req[0] == "true" && !f.Changed {
			missing = append(missing, f)
		}
		if group := f.Annotations[oneOfAnnotation]; len(group) > 0 && !seen[strings.Join(group, " ")] {
			seen[strings.Join(group, " ")] = true
			groups = append(groups, group)
		}
	})
	switch {
	case len(missing) == 1 && len(missing[0].Annotations[purposeAnnotation]) == 1:
		return fmt.Errorf("--%s is required: %s", missing[0].Name, missing[0].Annotations[purposeAnnotation][0])
	case len(missing) == 1:
		return fmt.Errorf("--%s is required", missing[0].Name)
	case len(missing) > 1:
		names := make([]string, len(missing))
		for i, f := range missing {
			names[i] = f.Name
		}
		return fmt.Errorf("%s are required", flagList(names, "and"))
	}
	for _, group := range groups {
		given := 0
		for _, name := range group {
			if cmd.Flags().Changed(name) {
				given++
			}
		}
		switch {
		case given == 0:
			return fmt.Errorf("%s is required", flagList(group, "or"))
		case given > 1 && len(group) == 2:
			return fmt.Errorf("give %s, not both", flagList(group, "or"))
		case given > 1:
			return fmt.Errorf("give one of %s, not several", flagList(group, "and"))
		}
	}
	return nil
}

// flagList writes names as flags: "--a", "--a or --b", "--a, --b or --c".
func flagList(names []string, conj string) string {
	flags := make([]string, len(names))
	for i, n := range names {
		flags[i] = "--" + n
	}
	if len(flags) == 1 {
		return flags[0]
	}
	return strings.Join(flags[:len(flags)-1], ", ") + " " + conj + " " + flags[len(flags)-1]
}
