package attest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/storage"
	"github.com/open-policy-agent/opa/v1/storage/inmem"
	"github.com/open-policy-agent/opa/v1/topdown"
)

// MaxPolicySize is the largest Rego module CompilePolicy accepts, in bytes.
const MaxPolicySize = 1 << 20

// PolicyTimeout bounds one evaluation of a policy against one statement.
const PolicyTimeout = 30 * time.Second

// ErrPolicyFailed is wrapped by the error Evaluate returns when a statement breaks the policy.
var ErrPolicyFailed = errors.New("policy failed")

// ErrInvalidPolicy is returned when a policy does not compile or defines no rule to check.
var ErrInvalidPolicy = errors.New("invalid policy")

// unsafeBuiltins are the built-ins a policy may not call: a policy judges the statement it is
// given and reaches nothing else (no network, no environment, no clock-dependent randomness).
var unsafeBuiltins = []string{"http.send", "net.lookup_ip_addr", "opa.runtime", "rand.intn", "uuid.rfc4122"}

// Policy is a compiled policy: Rego (CompilePolicy, CompileCompliancePolicy) or CUE
// (CompileCUEPolicy, CompileCUEFile). Of a Rego policy, a statement passes when the module's
// rule `allow` (if it defines one) is true and its rule `deny` (if it defines one, a set of
// messages) is empty; of a CUE policy, when it unifies with the policy.
// The statement is the input document: {"_type", "subject", "predicateType", "predicate"}.
// Cosign's policies (package signature, rule allow) work unchanged, in Rego v0 or v1 syntax.
// A Policy is safe for concurrent use.
type Policy struct {
	pkg      string // data path of the module's package, e.g. data.signature
	hasAllow bool
	hasDeny  bool
	// compliance: the module is in policy-controller's form, and allow holds the query of
	// its rule isCompliant.
	compliance bool
	compiler   *ast.Compiler
	store      storage.Store // empty: a policy sees its input and nothing else
	allow      ast.Body      // compiled queries binding resultVar to the rule's value
	deny       ast.Body
	// cue, when set, makes this a CUE policy (CompileCUEPolicy) and the fields above unused.
	cue *cuePolicy
}

// resultVar is the variable the prepared queries bind a rule's value to.
const resultVar = ast.Var("result")

// CompilePolicy compiles a Rego module named name (the file name, for messages). Rego v1 syntax
// is tried first, then v0 (the syntax cosign's documented policies use). The module must
// define a rule allow or deny.
func CompilePolicy(ctx context.Context, name string, src []byte) (*Policy, error) {
	mod, version, err := parseModule(name, src)
	if err != nil {
		return nil, err
	}
	p := &Policy{pkg: mod.Package.Path.String()}
	for _, r := range mod.Rules {
		switch ruleName(r) {
		case "allow":
			p.hasAllow = true
		case "deny":
			p.hasDeny = true
		}
	}
	if !p.hasAllow && !p.hasDeny {
		return nil, fmt.Errorf("%w: %s defines neither a rule allow nor a rule deny in %s", ErrInvalidPolicy, name, p.pkg)
	}
	if err := p.compile(name, mod, version); err != nil {
		return nil, err
	}
	if p.hasAllow {
		if p.allow, err = p.prepare(name, mod, "allow"); err != nil {
			return nil, err
		}
	}
	if p.hasDeny {
		if p.deny, err = p.prepare(name, mod, "deny"); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// CompliancePackage and ComplianceRule are the package and rule of policy-controller's Rego
// policies (the ClusterImagePolicy form): data.sigstore.isCompliant.
const (
	CompliancePackage = "sigstore"
	ComplianceRule    = "isCompliant"
)

// CompileCompliancePolicy compiles a Rego module in policy-controller's form: package sigstore
// with a rule isCompliant that is true, or an object (or list of objects)
// {"result": bool, "error": string, "warning": string}. A statement passes when the rule is
// true, or when one result is true with no warning; a warning fails it, as policy-controller
// treats it. Rego v1 syntax is tried first, then v0 (what policy-controller evaluates).
func CompileCompliancePolicy(ctx context.Context, name string, src []byte) (*Policy, error) {
	mod, version, err := parseModule(name, src)
	if err != nil {
		return nil, err
	}
	p := &Policy{pkg: mod.Package.Path.String(), compliance: true}
	if p.pkg != "data."+CompliancePackage {
		return nil, fmt.Errorf("%w: %s is package %s: a policy of this form is package %s", ErrInvalidPolicy, name, strings.TrimPrefix(p.pkg, "data."), CompliancePackage)
	}
	found := false
	for _, r := range mod.Rules {
		found = found || ruleName(r) == ComplianceRule
	}
	if !found {
		return nil, fmt.Errorf("%w: %s defines no rule %s", ErrInvalidPolicy, name, ComplianceRule)
	}
	if err := p.compile(name, mod, version); err != nil {
		return nil, err
	}
	if p.allow, err = p.prepare(name, mod, ComplianceRule); err != nil {
		return nil, err
	}
	return p, nil
}

// parseModule parses a Rego module, in v1 syntax or else v0, within MaxPolicySize.
func parseModule(name string, src []byte) (*ast.Module, ast.RegoVersion, error) {
	if len(src) > MaxPolicySize {
		return nil, 0, fmt.Errorf("%w: %s is %d bytes, at most %d allowed", ErrInvalidPolicy, name, len(src), MaxPolicySize)
	}
	version := ast.RegoV1
	mod, err := ast.ParseModuleWithOpts(name, string(src), ast.ParserOptions{RegoVersion: ast.RegoV1})
	if err != nil {
		mod0, err0 := ast.ParseModuleWithOpts(name, string(src), ast.ParserOptions{RegoVersion: ast.RegoV0})
		if err0 != nil {
			return nil, 0, fmt.Errorf("%w: %s: %w", ErrInvalidPolicy, name, err)
		}
		mod, version = mod0, ast.RegoV0
	}
	if mod == nil || mod.Package == nil {
		return nil, 0, fmt.Errorf("%w: %s has no package", ErrInvalidPolicy, name)
	}
	return mod, version, nil
}

// ruleName is the first part of a rule's name ("allow" for allow and allow contains ...).
func ruleName(r *ast.Rule) string {
	if len(r.Head.Reference) > 0 {
		return r.Head.Reference[0].Value.String()
	}
	return r.Head.Name.String()
}

func unsafeSet() map[string]struct{} {
	unsafe := make(map[string]struct{}, len(unsafeBuiltins))
	for _, b := range unsafeBuiltins {
		unsafe[b] = struct{}{}
	}
	return unsafe
}

// compile compiles the module alone, with the unsafe built-ins refused.
func (p *Policy) compile(name string, mod *ast.Module, version ast.RegoVersion) error {
	// The module is compiled with ast and evaluated with topdown directly: OPA's rego package
	// would add its Wasm compiler, bundle loader and plugin machinery to every start of the
	// binary, and a policy here needs none of them.
	p.compiler = ast.NewCompiler().
		WithDefaultRegoVersion(version).
		WithUnsafeBuiltins(unsafeSet())
	p.compiler.Compile(map[string]*ast.Module{name: mod})
	if p.compiler.Failed() {
		return fmt.Errorf("%w: %s: %w", ErrInvalidPolicy, name, p.compiler.Errors)
	}
	p.store = inmem.New()
	return nil
}

// prepare compiles the query binding resultVar to the module's rule.
func (p *Policy) prepare(name string, mod *ast.Module, rule string) (ast.Body, error) {
	ref := mod.Package.Path.Copy().Append(ast.StringTerm(rule))
	query := ast.NewBody(ast.Equality.Expr(ast.NewTerm(resultVar), ast.NewTerm(ref)))
	body, err := p.compiler.QueryCompiler().WithUnsafeBuiltins(unsafeSet()).Compile(query)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrInvalidPolicy, name, err)
	}
	return body, nil
}

// PolicyError says which rules a statement broke.
type PolicyError struct {
	// Failures are messages naming each rule that failed: "data.x.allow is not true", or
	// "data.x.deny: <message>" for each deny message.
	Failures []string
}

// Error lists the failures.
func (e *PolicyError) Error() string {
	return fmt.Sprintf("%s: %s", ErrPolicyFailed, strings.Join(e.Failures, "; "))
}

// Is makes errors.Is(err, ErrPolicyFailed) true.
func (e *PolicyError) Is(target error) bool { return target == ErrPolicyFailed }

// Evaluate checks statement (in-toto statement JSON) against the policy. It returns a
// *PolicyError (wrapping ErrPolicyFailed) that names each failed rule, or another error when the
// policy could not be evaluated (which also means the statement is not accepted).
func (p *Policy) Evaluate(ctx context.Context, statement []byte) error {
	if p.cue != nil {
		ctx, cancel := context.WithTimeout(ctx, PolicyTimeout)
		defer cancel()
		return p.cue.evaluate(ctx, statement)
	}
	var doc any
	dec := json.NewDecoder(bytes.NewReader(statement))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		return fmt.Errorf("policy input: %w", err)
	}
	input, err := ast.InterfaceToValue(doc)
	if err != nil {
		return fmt.Errorf("policy input: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, PolicyTimeout)
	defer cancel()
	if p.compliance {
		return p.evaluateCompliance(ctx, input)
	}
	var failures []string
	if p.hasAllow {
		values, err := p.eval(ctx, p.allow, input)
		if err != nil {
			return fmt.Errorf("evaluating %s.allow: %w", p.pkg, err)
		}
		if len(values) != 1 || values[0] != true {
			failures = append(failures, p.pkg+".allow is not true")
		}
	}
	if p.hasDeny {
		values, err := p.eval(ctx, p.deny, input)
		if err != nil {
			return fmt.Errorf("evaluating %s.deny: %w", p.pkg, err)
		}
		for _, m := range denyMessages(values) {
			failures = append(failures, p.pkg+".deny: "+m)
		}
	}
	if len(failures) > 0 {
		return &PolicyError{Failures: failures}
	}
	return nil
}

// evaluateCompliance checks the rule isCompliant of a policy in policy-controller's form.
func (p *Policy) evaluateCompliance(ctx context.Context, input ast.Value) error {
	rule := p.pkg + "." + ComplianceRule
	values, err := p.eval(ctx, p.allow, input)
	if err != nil {
		return fmt.Errorf("evaluating %s: %w", rule, err)
	}
	var failures []string
	for _, v := range values {
		results, ok := v.([]any)
		if !ok {
			results = []any{v}
		}
		for _, r := range results {
			switch r := r.(type) {
			case bool:
				if r {
					return nil
				}
			case map[string]any:
				result, _ := r["result"].(bool)
				warning, _ := r["warning"].(string)
				msg, _ := r["error"].(string)
				if result && warning == "" {
					return nil
				}
				if result {
					failures = append(failures, rule+" warns: "+warning)
					continue
				}
				if msg == "" {
					msg = "not compliant"
				}
				if warning != "" {
					msg += " (warning: " + warning + ")"
				}
				failures = append(failures, rule+": "+msg)
			}
		}
	}
	if len(failures) == 0 {
		failures = []string{rule + " is not true"}
	}
	return &PolicyError{Failures: failures}
}

// eval runs one prepared query against input and returns the values bound to resultVar, as
// JSON-shaped Go values; none when the rule is undefined. Evaluation stops when ctx ends.
func (p *Policy) eval(ctx context.Context, body ast.Body, input ast.Value) ([]any, error) {
	txn, err := p.store.NewTransaction(ctx)
	if err != nil {
		return nil, err
	}
	defer p.store.Abort(ctx, txn)
	stop := topdown.NewCancel()
	done := make(chan struct{})
	defer close(done)
	go func() {
		select {
		case <-ctx.Done():
			stop.Cancel()
		case <-done:
		}
	}()
	rs, err := topdown.NewQuery(body).
		WithCompiler(p.compiler).
		WithStore(p.store).
		WithTransaction(txn).
		WithInput(ast.NewTerm(input)).
		WithCancel(stop).
		WithStrictBuiltinErrors(true).
		Run(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]any, 0, len(rs))
	for _, r := range rs {
		t, ok := r[resultVar]
		if !ok {
			continue
		}
		v, err := ast.JSON(t.Value)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// denyMessages returns the messages of deny values (a set of messages, or a non-empty value of
// another kind, rendered as JSON), sorted.
func denyMessages(values []any) []string {
	var out []string
	for _, value := range values {
		switch v := value.(type) {
		case []any:
			for _, m := range v {
				out = append(out, render(m))
			}
		case map[string]any:
			for k := range v {
				out = append(out, k)
			}
		case bool:
			if v {
				out = append(out, "true")
			}
		case nil:
		default:
			out = append(out, render(v))
		}
	}
	sort.Strings(out)
	return out
}

func render(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}
