package main

import (
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// TestRequiredFlags checks the words in which missing required flags are reported, before
// cobra's own check.
func TestRequiredFlags(t *testing.T) {
	newCmd := func() *cobra.Command {
		root := &cobra.Command{Use: "root", PersistentPreRunE: checkRequiredFlags, SilenceErrors: true, SilenceUsage: true}
		cmd := &cobra.Command{Use: "sub", RunE: func(*cobra.Command, []string) error { return nil }}
		fs := cmd.Flags()
		fs.String("dir", "", "")
		fs.String("url", "", "")
		fs.String("bundle", "", "")
		fs.Int("slot-id", 0, "")
		fs.String("token-label", "", "")
		markRequired(fs, "dir", "")
		markRequired(fs, "url", "")
		markRequired(fs, "bundle", "the bundle to read")
		markOneOf(cmd, "slot-id", "token-label")
		root.AddCommand(cmd)
		return root
	}
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--dir", "d", "--url", "u"}, "--bundle is required: the bundle to read"},
		{[]string{"--bundle", "b", "--url", "u"}, "--dir is required"},
		{[]string{"--bundle", "b"}, "--dir and --url are required"},
		{nil, "--bundle, --dir and --url are required"},
		{[]string{"--bundle", "b", "--dir", "d", "--url", "u"}, "--slot-id or --token-label is required"},
		{[]string{"--bundle", "b", "--dir", "d", "--url", "u", "--slot-id", "1", "--token-label", "t"}, "give --slot-id or --token-label, not both"},
		{[]string{"--bundle", "b", "--dir", "d", "--url", "u", "--token-label", "t"}, ""},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			root := newCmd()
			root.SetArgs(append([]string{"sub"}, tc.args...))
			err := root.Execute()
			if tc.want == "" {
				if err != nil {
					t.Fatalf("err = %v, want none", err)
				}
				return
			}
			if err == nil || err.Error() != tc.want {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

// TestRequiredFlagsMarkedByCobra checks that a flag marked with cobra's MarkFlagRequired
// directly is reported in the same words.
func TestRequiredFlagsMarkedByCobra(t *testing.T) {
	_, err := runCmd(t, "ca", "init")
	if err == nil || err.Error() != "--dir is required" {
		t.Fatalf("ca init without --dir: %v", err)
	}
}
