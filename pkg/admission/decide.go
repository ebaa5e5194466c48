package admission

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/cosign-like/cosign-like/pkg/admission/policy"
	"github.com/cosign-like/cosign-like/pkg/cosign"
	"github.com/cosign-like/cosign-like/pkg/oci"
)

// NoMatch says what happens to an image that no policy matches.
type NoMatch string

// NoMatch values (--no-match).
const (
	NoMatchAllow NoMatch = "allow"
	NoMatchWarn  NoMatch = "warn"
	NoMatchDeny  NoMatch = "deny"
)

// ParseNoMatch parses allow, warn or deny.
func ParseNoMatch(s string) (NoMatch, error) {
	switch n := NoMatch(s); n {
	case NoMatchAllow, NoMatchWarn, NoMatchDeny:
		return n, nil
	}
	return "", fmt.Errorf("%q: want allow, warn or deny", s)
}

// Default settings of a Decider.
const (
	DefaultCacheTTL    = 5 * time.Minute
	DefaultConcurrency = 8
	DefaultCacheSize   = 10000
)

// ErrRegistryUnreachable is wrapped by a failure to read an image's signatures from its
// registry (network errors, 5xx and 429 answers after the retries, or the budget running out).
var ErrRegistryUnreachable = errors.New("the registry could not be reached")

// ErrNotDigest is wrapped by the refusal of an image given by tag.
var ErrNotDigest = errors.New("must be an image digest")

// DeciderOptions configure a Decider.
type DeciderOptions struct {
	// Trust is the trust material.
	Trust Trust
	// Registry are the options of every registry call (credentials, limits, retries).
	Registry []oci.Option
	// NoMatch is what happens to an image no policy matches (default deny).
	NoMatch NoMatch
	// CacheTTL is how long a passed verification is remembered (default DefaultCacheTTL;
	// negative: no cache).
	CacheTTL time.Duration
	// Concurrency bounds the images verified at once, across requests (default
	// DefaultConcurrency).
	Concurrency int
	// Now is the clock of the cache (default time.Now).
	Now func() time.Time
	// InsecureRegistry skips the verification of registries' TLS certificates
	// (--allow-insecure-registry) on the decider's one transport, so that its connections are
	// reused across reviews as they are otherwise.
	InsecureRegistry bool
}

// Decider judges images against a set of policies. It is safe for concurrent use.
type Decider struct {
	policies  []*compiled
	o         DeciderOptions
	transport *http.Transport
	cache     *cache
	sem       chan struct{}
	stats     *metrics // nil: none recorded
}

// NewDecider puts policies to work: keys are loaded, trust roots picked, Rego and CUE compiled. A
// policy that cannot be used fails it, naming the policy, its file and the field.
func NewDecider(ctx context.Context, docs []*policy.ClusterImagePolicy, o DeciderOptions) (*Decider, error) {
	return newDecider(ctx, docs, o, nil)
}

// newDecider is NewDecider taking over the cache and the concurrency bound of the decider it
// replaces, when that has the same settings (old nil: new ones).
func newDecider(ctx context.Context, docs []*policy.ClusterImagePolicy, o DeciderOptions, old *Decider) (*Decider, error) {
	ps, err := compile(ctx, docs, o.Trust)
	if err != nil {
		return nil, err
	}
	if o.NoMatch == "" {
		o.NoMatch = NoMatchDeny
	}
	if o.CacheTTL == 0 {
		o.CacheTTL = DefaultCacheTTL
	}
	if o.Concurrency <= 0 {
		o.Concurrency = DefaultConcurrency
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	// One transport serves every registry call, so that connections are reused across reviews
	// (and across reloads that keep the TLS setting); registry errors and 429s are retried for
	// as long as the request's budget allows. The caller's own options, given later, win.
	transport := newTransport(o.InsecureRegistry)
	if old != nil && old.o.InsecureRegistry == o.InsecureRegistry {
		transport = old.transport
	}
	o.Registry = append([]oci.Option{oci.WithTransport(countingTransport{transport}), oci.WithInsecure(o.InsecureRegistry),
		oci.WithRetry(oci.Retry{Attempts: 8, Backoff: 250 * time.Millisecond})}, o.Registry...)
	d := &Decider{policies: ps, o: o, transport: transport, cache: newCache(o.CacheTTL, DefaultCacheSize, o.Now), sem: make(chan struct{}, o.Concurrency)}
	if old != nil && old.o.CacheTTL == o.CacheTTL {
		d.cache = old.cache
	}
	if old != nil && old.o.Concurrency == o.Concurrency {
		d.sem = old.sem
	}
	return d, nil
}

// newTransport is the registry transport of a Decider: as pkg/oci's own default, kept, with
// TLS certificates not verified when insecure.
func newTransport(insecure bool) *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 16
	if insecure {
		t.TLSClientConfig = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // the operator asked for it
	}
	// A registry that accepts a connection and never answers is cut off by the budget; this
	// bounds a call made without one.
	t.ResponseHeaderTimeout = 2 * time.Minute
	return t
}

// Close releases the decider's idle registry connections.
func (d *Decider) Close() { d.transport.CloseIdleConnections() }

// Policies returns the names of the policies in force.
func (d *Decider) Policies() []string {
	out := make([]string, len(d.policies))
	for i, p := range d.policies {
		out[i] = p.doc.Metadata.Name
	}
	return out
}

// Object is the resource images come from, as policies see it.
type Object struct {
	// Resource is what spec.match looks at.
	Resource policy.Resource
	// Spec, ObjectMeta and TypeMeta are given to a spec.policy that asks for them
	// (includeSpec, includeObjectMeta, includeTypeMeta).
	Spec, ObjectMeta, TypeMeta any
}

// Image is one image of an object.
type Image struct {
	// Ref is the reference as the object gives it.
	Ref string
	// Field is where it stands ("spec.containers[0].image"), for messages.
	Field string
}

// Verdict is the decision on one image.
type Verdict struct {
	Image
	// Allowed is false when the image is refused.
	Allowed bool
	// Denials say why it is refused, one per failed policy (enforce mode).
	Denials []string
	// Warnings are failures of warn-mode policies, and no-match warnings.
	Warnings []string
	// Outcomes are the results of each matching policy.
	Outcomes []Outcome
}

// Outcome is what one policy decided about one image.
type Outcome struct {
	Policy string
	// Result is allow, deny or warn.
	Result string
	// Cached says the authorities' verification came from the cache.
	Cached bool
	// Err is why the policy failed (nil when it passed).
	Err error
}

// Decide judges each image of obj, concurrently (within the Decider's bound), until ctx
// ends: an image that is not a digest reference is refused; every policy that matches the
// image (spec.images and spec.match) must pass; in a policy any authority suffices, and then
// its spec.policy, if any, must pass too. Signatures and attestations are read once per image
// and source for the whole call.
func (d *Decider) Decide(ctx context.Context, obj Object, images []Image) []Verdict {
	out := make([]Verdict, len(images))
	f := &fetcher{registry: d.o.Registry, m: map[string]*fetchEntry{}}
	var wg sync.WaitGroup
	for i, img := range images {
		wg.Go(func() {
			select {
			case d.sem <- struct{}{}:
				defer func() { <-d.sem }()
				out[i] = d.decideImage(ctx, obj, img, f)
			case <-ctx.Done():
				out[i] = Verdict{Image: img, Denials: []string{fmt.Sprintf("%s: %s: not verified: the time budget ran out while other images were being verified (%v)", img.Field, img.Ref, ctx.Err())}}
			}
		})
	}
	wg.Wait()
	return out
}

func budgetError(ctx context.Context) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("%w within the time budget", ErrRegistryUnreachable)
	}
	return ctx.Err()
}

func (d *Decider) decideImage(ctx context.Context, obj Object, img Image, f *fetcher) Verdict {
	v := Verdict{Image: img, Allowed: true}
	where := img.Ref
	if img.Field != "" {
		where = img.Field + ": " + img.Ref
	}
	deny := func(msg string) {
		v.Allowed = false
		v.Denials = append(v.Denials, where+": "+msg)
	}
	ref, err := name.ParseReference(img.Ref)
	if err != nil {
		deny(fmt.Sprintf("not an image reference: %v", err))
		return v
	}
	digest, ok := ref.(name.Digest)
	if !ok {
		deny(fmt.Sprintf("%v (resolve its tag first: the mutating webhook does)", ErrNotDigest))
		return v
	}
	matched, err := d.matching(obj, ref.Name())
	if err != nil {
		deny(err.Error())
		return v
	}
	if len(matched) == 0 {
		switch d.o.NoMatch {
		case NoMatchAllow:
		case NoMatchWarn:
			v.Warnings = append(v.Warnings, where+": no matching policies")
		default:
			deny("no matching policies")
		}
		d.stats.decision(string(d.o.NoMatch), "")
		return v
	}
	for _, p := range matched {
		o := d.decidePolicy(ctx, obj, p, digest, f)
		v.Outcomes = append(v.Outcomes, o)
		d.stats.decision(o.Result, o.Policy)
		switch o.Result {
		case "deny":
			deny(fmt.Sprintf("failed policy %s: %v", o.Policy, o.Err))
		case "warn":
			v.Warnings = append(v.Warnings, fmt.Sprintf("%s: failed policy %s: %v", where, o.Policy, o.Err))
		}
	}
	return v
}

// matching returns the policies that apply to image in obj.
func (d *Decider) matching(obj Object, image string) ([]*compiled, error) {
	var out []*compiled
	for _, p := range d.policies {
		ok, err := p.doc.MatchesResource(obj.Resource)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		if ok, err = p.doc.MatchesImage(image); err != nil {
			return nil, err
		} else if ok {
			out = append(out, p)
		}
	}
	return out, nil
}

// decidePolicy checks one policy: its authorities (from the cache when they passed before),
// then its spec.policy.
func (d *Decider) decidePolicy(ctx context.Context, obj Object, p *compiled, digest name.Digest, f *fetcher) Outcome {
	o := Outcome{Policy: p.doc.Metadata.Name, Result: "allow"}
	key := digest.String() + "|" + p.hash
	matches, hit := d.cache.get(key)
	d.stats.cache(hit)
	o.Cached = hit
	if !hit {
		matches, o.Err = d.checkAuthorities(ctx, p, digest, f)
		if o.Err == nil {
			d.cache.put(key, matches)
		}
	}
	if o.Err == nil && p.check != nil {
		o.Err = evaluateSpecPolicy(ctx, p, matches, obj)
	}
	if o.Err != nil {
		o.Result = "deny"
		if p.doc.Spec.Mode == policy.ModeWarn {
			o.Result = "warn"
		}
	}
	return o
}

// checkAuthorities passes when any authority does, and otherwise says why each failed.
func (d *Decider) checkAuthorities(ctx context.Context, p *compiled, digest name.Digest, f *fetcher) (map[string]AuthorityMatch, error) {
	if len(p.authorities) == 0 {
		return nil, errors.New("the policy has no authorities")
	}
	matches := map[string]AuthorityMatch{}
	var reasons []string
	var causes []error
	for _, a := range p.authorities {
		m, err := d.checkAuthority(ctx, a, digest, f)
		if err != nil {
			reasons = append(reasons, fmt.Sprintf("authority %s: %v", a.name, err))
			causes = append(causes, err)
			continue
		}
		matches[a.name] = m
	}
	if len(matches) > 0 {
		return matches, nil
	}
	return nil, &authorityError{msg: strings.Join(reasons, "; "), causes: causes}
}

// authorityError lists why each authority failed, and unwraps to those errors.
type authorityError struct {
	msg    string
	causes []error
}

func (e *authorityError) Error() string   { return e.msg }
func (e *authorityError) Unwrap() []error { return e.causes }

// checkAuthority checks one authority against the image's signatures (or, when it lists
// attestations, against its attestations).
func (d *Decider) checkAuthority(ctx context.Context, a *authority, digest name.Digest, f *fetcher) (AuthorityMatch, error) {
	var m AuthorityMatch
	if a.static != nil {
		if a.static.Action == "fail" {
			return m, fmt.Errorf("disallowed by static policy: %s", a.static.Message)
		}
		m.Static = true
		return m, nil
	}
	found, err := f.attached(ctx, digest, a.source)
	if err != nil {
		return m, err
	}
	var inLayout []oci.Attached
	for _, at := range found {
		if a.layouts[at.Layout] {
			inLayout = append(inLayout, at)
		}
	}
	if len(a.attestations) > 0 {
		m.Attestations = map[string][]PolicyAttestation{}
		for _, w := range a.attestations {
			got, err := checkAttestation(ctx, a, w, digest, inLayout)
			if err != nil {
				return AuthorityMatch{}, fmt.Errorf("attestation %s: %w", w.name, err)
			}
			m.Attestations[w.name] = got
		}
		return m, nil
	}
	var errs []error
	for _, p := range a.policies {
		vs, err := cosign.VerifyAttached(digest, inLayout, cosign.VerifyOptions{Verifier: a.verifier, Policy: p})
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, s := range vs {
			m.Signatures = append(m.Signatures, policySignature(s.Result, []byte(s.Digest.String())))
		}
		return m, nil
	}
	return m, joinIdentityErrors(a, errs)
}

// checkAttestation verifies the attestations of one wanted type under any of the authority's
// identities, with the attestation's policy.
func checkAttestation(ctx context.Context, a *authority, w wantedAttestation, digest name.Digest, found []oci.Attached) ([]PolicyAttestation, error) {
	o := cosign.VerifyAttestationOptions{Verifier: a.verifier, PredicateType: w.predicateType}
	if w.check != nil {
		o.Rules = append(o.Rules, w.check)
	}
	var errs []error
	for _, p := range a.policies {
		o.Policy = p
		vas, err := cosign.VerifyAttestations(ctx, digest, found, o)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out := make([]PolicyAttestation, 0, len(vas))
		for _, va := range vas {
			out = append(out, PolicyAttestation{PolicySignature: policySignature(va.Result, va.Signature), PredicateType: va.PredicateType})
		}
		return out, nil
	}
	return nil, joinIdentityErrors(a, errs)
}

// joinIdentityErrors is the one error of a one-policy authority, or each identity's.
func joinIdentityErrors(a *authority, errs []error) error {
	if len(errs) == 1 {
		return errs[0]
	}
	parts := make([]string, len(errs))
	for i, err := range errs {
		id := a.policies[i].Identity
		parts[i] = fmt.Sprintf("identity %d (%s, %s): %v", i, or(id.Subject, id.SubjectRegexp), or(id.Issuer, id.IssuerRegexp), err)
	}
	return &authorityError{msg: strings.Join(parts, "; "), causes: errs}
}

func or(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
