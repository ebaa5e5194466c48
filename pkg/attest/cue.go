package attest

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"cuelang.org/go/cue"
	"cuelang.org/go/cue/cuecontext"
	cueerrors "cuelang.org/go/cue/errors"
)

// cuePolicy is a CUE policy: its source, compiled afresh for each evaluation (a CUE context
// is not safe for concurrent use, and compiling a policy takes microseconds).
type cuePolicy struct {
	name string
	src  []byte
	// final asks for the value to be final once unified (defaults chosen, structs closed), as
	// cosign's verify-attestation checks a .cue file; without it the unified value is checked
	// as policy-controller checks a ClusterImagePolicy's CUE.
	final bool
}

// CompileCUEPolicy compiles a CUE policy as policy-controller evaluates one in a
// ClusterImagePolicy (policy.type: cue): a statement (or, for spec.policy, the authorities'
// result) passes when it unifies with the policy without conflict. The policy is checked here
// for syntax and evaluation errors; name (the file or policy name) is in every message.
func CompileCUEPolicy(name string, src []byte) (*Policy, error) {
	return compileCUE(name, src, false)
}

// CompileCUEFile compiles a CUE policy file as cosign's verify-attestation --policy x.cue
// evaluates it: as CompileCUEPolicy, and the unified value must also be final.
func CompileCUEFile(name string, src []byte) (*Policy, error) {
	return compileCUE(name, src, true)
}

func compileCUE(name string, src []byte, final bool) (*Policy, error) {
	if len(src) > MaxPolicySize {
		return nil, fmt.Errorf("%w: %s is %d bytes, at most %d allowed", ErrInvalidPolicy, name, len(src), MaxPolicySize)
	}
	c := &cuePolicy{name: name, src: src, final: final}
	if _, err := c.compile(cuecontext.New()); err != nil {
		return nil, fmt.Errorf("%w: %s: %s", ErrInvalidPolicy, name, cueMessage(err))
	}
	return &Policy{pkg: name, cue: c}, nil
}

func (c *cuePolicy) compile(ctx *cue.Context) (cue.Value, error) {
	v := ctx.CompileBytes(c.src, cue.Filename(c.name))
	return v, v.Err()
}

// evaluate unifies input (JSON) with the policy and checks the result, within ctx.
func (c *cuePolicy) evaluate(ctx context.Context, input []byte) error {
	if !json.Valid(input) {
		return fmt.Errorf("policy input: not JSON")
	}
	done := make(chan error, 1)
	go func() { done <- c.check(input) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return fmt.Errorf("evaluating %s: %w", c.name, ctx.Err())
	}
}

func (c *cuePolicy) check(input []byte) error {
	cctx := cuecontext.New()
	policy, err := c.compile(cctx)
	if err != nil {
		return fmt.Errorf("%w: %s: %s", ErrInvalidPolicy, c.name, cueMessage(err))
	}
	data := cctx.CompileBytes(input, cue.Filename("input"))
	if err := data.Err(); err != nil {
		return fmt.Errorf("policy input: %s", cueMessage(err))
	}
	unified := policy.Unify(data)
	if err := unified.Err(); err != nil {
		return &PolicyError{Failures: cueFailures(c.name, err)}
	}
	var opts []cue.Option
	if c.final {
		opts = append(opts, cue.Final())
	}
	if err := unified.Validate(opts...); err != nil {
		return &PolicyError{Failures: cueFailures(c.name, err)}
	}
	return nil
}

// cueFailures are the messages of each error CUE reports, each naming the policy.
func cueFailures(name string, err error) []string {
	var out []string
	for _, e := range cueerrors.Errors(err) {
		out = append(out, name+": "+cueError(e))
	}
	if len(out) == 0 {
		out = []string{name + ": " + err.Error()}
	}
	return out
}

// cueMessage is every error of err on one line.
func cueMessage(err error) string {
	var parts []string
	for _, e := range cueerrors.Errors(err) {
		parts = append(parts, cueError(e))
	}
	if len(parts) == 0 {
		return err.Error()
	}
	return strings.Join(parts, "; ")
}

// cueError is one CUE error with the places in the policy it points to.
func cueError(e cueerrors.Error) string {
	msg := e.Error()
	var at []string
	for _, p := range cueerrors.Positions(e) {
		if p.Filename() != "" && p.Filename() != "input" {
			at = append(at, p.String())
		}
	}
	if len(at) > 0 && !strings.Contains(msg, at[0]) {
		msg += " (" + strings.Join(at, ", ") + ")"
	}
	return msg
}
