package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"
)

const (
	// timeoutFlag bounds in time a command that talks to a network (cosign's name).
	timeoutFlag = "timeout"
	// defaultTimeout is its default, as cosign has it.
	defaultTimeout = 3 * time.Minute
	// liftedByAnnotation marks the --timeout flag that boundInTime defines. Its values are the
	// flags that, set, make the command run until it is stopped, lifting the deadline.
	liftedByAnnotation = "cosign-like/timeout-lifted-by"
)

// boundInTime gives cmd the --timeout flag and returns it: the root runs cmd under a context
// whose deadline is that far away (addDeadlines). Commands that talk to a network call it;
// servers, which run until they are stopped, never do. liftedBy names boolean flags that make
// cmd run until it is stopped (log monitor's --follow): set, they lift the deadline.
func boundInTime(cmd *cobra.Command, liftedBy ...string) *cobra.Command {
	usage := "longest the command may run, network waits and retries included (0: no limit)"
	for _, name := range liftedBy {
		usage += "; none with --" + name
	}
	fs := cmd.Flags()
	fs.DurationP(timeoutFlag, "t", defaultTimeout, usage)
	mustMark(fs.SetAnnotation(timeoutFlag, liftedByAnnotation, append([]string{}, liftedBy...)))
	return cmd
}

// addDeadlines makes every command below root that boundInTime marked run under its
// --timeout deadline.
func addDeadlines(root *cobra.Command) {
	if f := root.Flags().Lookup(timeoutFlag); f != nil && root.RunE != nil {
		if liftedBy, ok := f.Annotations[liftedByAnnotation]; ok {
			run := root.RunE
			root.RunE = func(cmd *cobra.Command, args []string) error {
				return runWithDeadline(cmd, args, run, liftedBy)
			}
		}
	}
	for _, sub := range root.Commands() {
		addDeadlines(sub)
	}
}

// runWithDeadline runs run with cmd's context bounded by --timeout, unless a flag of liftedBy
// is set. An error of a run the deadline ended says so, naming the flag.
func runWithDeadline(cmd *cobra.Command, args []string, run func(*cobra.Command, []string) error, liftedBy []string) error {
	fs := cmd.Flags()
	timeout, err := fs.GetDuration(timeoutFlag)
	if err != nil {
		return err
	}
	for _, name := range liftedBy {
		if on, _ := fs.GetBool(name); on {
			if fs.Changed(timeoutFlag) {
				return fmt.Errorf("give --%s or --%s, not both: with --%s the command runs until it is stopped", timeoutFlag, name, name)
			}
			return run(cmd, args)
		}
	}
	switch {
	case timeout < 0:
		return fmt.Errorf("--%s %s: want a duration, or 0 for no limit", timeoutFlag, timeout)
	case timeout == 0:
		return run(cmd, args)
	}
	parent := cmd.Context()
	ctx, cancel := context.WithTimeout(parent, timeout)
	defer cancel()
	cmd.SetContext(ctx)
	defer cmd.SetContext(parent)
	err = run(cmd, args)
	if err != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) && parent.Err() == nil {
		return &hintedError{err: err, msg: fmt.Sprintf("%v (--%s %s ran out)", err, timeoutFlag, timeout)}
	}
	return err
}
