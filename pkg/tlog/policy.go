package tlog

import (
	"bytes"
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// MaxPolicySize bounds the size of a witness policy file accepted by ParseWitnessPolicy.
const MaxPolicySize = 1 << 20

// maxPolicyEntries bounds the logs, the witnesses and the groups of a policy, each (C2SP
// tlog-policy asks for at least 32).
const maxPolicyEntries = 256

// QuorumNone is the quorum of a policy that requires no cosignature.
const QuorumNone = "none"

// WitnessPolicy is a parsed C2SP tlog-policy file: the logs it accepts, the witnesses and
// groups it names, and the quorum a checkpoint's cosignatures must meet.
type WitnessPolicy struct {
	// Logs are the log lines, in file order.
	Logs []PolicyLog
	// Witnesses are the witness lines, in file order.
	Witnesses []PolicyWitness
	// Groups are the group lines, in file order.
	Groups []PolicyGroup
	// Quorum names the witness or group that must witness a checkpoint, or is QuorumNone.
	Quorum string

	// nodes are the witnesses and groups in definition order, so that every group comes after
	// its members; names indexes them; quorum is the index of the quorum, -1 for none.
	nodes  []policyNode
	names  map[string]int
	quorum int
}

// policyNode is a witness (witness >= 0) or a group of earlier nodes.
type policyNode struct {
	witness   int
	threshold int
	members   []int
}

// PolicyLog is a log line: "log <vkey> [<url>]".
type PolicyLog struct {
	// Key is the log's verifier key; its name is the log's origin.
	Key *VerifierKey
	// URL is the log's URL, empty when the line gives none.
	URL string
	// Unsupported, when set, says why Key cannot verify checkpoints here (it wraps
	// ErrUnsupportedKey); such a log accepts no checkpoint.
	Unsupported error
}

// PolicyWitness is a witness line: "witness <name> <vkey> [<url>]".
type PolicyWitness struct {
	// Name is the witness's name in the policy (not its key name, which is Key.Name).
	Name string
	// Key is the witness's verifier key.
	Key *VerifierKey
	// URL is the witness's submission prefix, empty when the line gives none.
	URL string
	// Verifier checks the witness's cosignatures; nil when its key type is not supported here,
	// and Unsupported (wrapping ErrUnsupportedCosignatureKey) then says why. Such a witness
	// never counts as having cosigned.
	Verifier    *CosignatureVerifier
	Unsupported error
}

// PolicyGroup is a group line: "group <name> <k|all|any> <member>...".
type PolicyGroup struct {
	// Name is the group's name.
	Name string
	// Threshold is how many members must have witnessed a checkpoint (1 for any, all of them
	// for all).
	Threshold int
	// Members name witnesses and groups defined before the group.
	Members []string
}

// PolicyError is a policy file that does not parse; it wraps ErrMalformedPolicy.
type PolicyError struct {
	// Line is the 1-based line number, 0 for an error of the whole file.
	Line int
	// Msg says what is wrong.
	Msg string
}

// Error names the line.
func (e *PolicyError) Error() string {
	if e.Line == 0 {
		return fmt.Sprintf("%v: %s", ErrMalformedPolicy, e.Msg)
	}
	return fmt.Sprintf("%v: line %d: %s", ErrMalformedPolicy, e.Line, e.Msg)
}

// Unwrap gives ErrMalformedPolicy.
func (e *PolicyError) Unwrap() error { return ErrMalformedPolicy }

// ParseWitnessPolicy parses a C2SP tlog-policy file as Tessera v1.0.4 reads it for
// WithWitnesses (`witness <name> <vkey> <url>`, `group <name> <N|all|any> <members...>`,
// `quorum <name|none>`, comments from a field starting with '#' to the end of the line) and as
// C2SP defines it beyond Tessera: `log <vkey> [<url>]` lines with their keys, witness lines
// without a URL, and witness keys of types this package cannot verify (ML-DSA-44), which are
// kept with their Unsupported reason and never count towards the quorum. Witness keys are
// cosignature/v1 vkeys (type 0x04) or, as Tessera accepts them, plain Ed25519 vkeys (0x01) read as
// the same key. Lines may end in CR LF; the last newline may be missing.
//
// As C2SP requires: exactly one quorum line, naming a witness or group (defined anywhere in the
// file) or none; a group refers only to names defined on lines before it, lists at least one
// member, and has 1 <= k <= members; names are unique and `none` names nothing; no two logs and
// no two witnesses wrap the same public key; a name is a member of at most one group, once. Only
// tab, newline, printable ASCII and bytes >= 0x80 may appear. Errors are *PolicyError.
func ParseWitnessPolicy(data []byte) (*WitnessPolicy, error) {
	if len(data) > MaxPolicySize {
		return nil, &PolicyError{Msg: fmt.Sprintf("%d bytes, limit %d", len(data), MaxPolicySize)}
	}
	b := &policyBuilder{p: &WitnessPolicy{names: map[string]int{}, quorum: -1}, memberOf: map[string]string{}}
	for i, line := range bytes.Split(data, []byte("\n")) {
		line = bytes.TrimSuffix(line, []byte("\r"))
		if err := b.line(line); err != nil {
			return nil, &PolicyError{Line: i + 1, Msg: err.Error()}
		}
	}
	if err := b.finish(); err != nil {
		return nil, &PolicyError{Line: b.quorumLine, Msg: err.Error()}
	}
	return b.p, nil
}

// policyBuilder accumulates a policy line by line.
type policyBuilder struct {
	p          *WitnessPolicy
	lineNo     int
	quorumLine int
	memberOf   map[string]string // member name -> the group that lists it
}

// policyFields splits a line at runs of spaces and tabs, dropping a comment: the fields from the
// first one that starts with '#'.
func policyFields(line []byte) []string {
	fields := strings.FieldsFunc(string(line), func(r rune) bool { return r == ' ' || r == '\t' })
	for i, f := range fields {
		if strings.HasPrefix(f, "#") {
			return fields[:i]
		}
	}
	return fields
}

func (b *policyBuilder) line(line []byte) error {
	b.lineNo++
	for _, c := range line {
		if (c < 0x20 && c != '\t') || c == 0x7f {
			return fmt.Errorf("control character 0x%02x", c)
		}
	}
	fields := policyFields(line)
	if len(fields) == 0 {
		return nil
	}
	args := fields[1:]
	switch fields[0] {
	case "log":
		return b.log(args)
	case "witness":
		return b.witness(args)
	case "group":
		return b.group(args)
	case "quorum":
		if len(args) != 1 {
			return fmt.Errorf("want quorum <name>, got %d fields", len(args))
		}
		if b.quorumLine != 0 {
			return fmt.Errorf("second quorum line (the first is line %d)", b.quorumLine)
		}
		b.quorumLine, b.p.Quorum = b.lineNo, args[0]
		return nil
	}
	return fmt.Errorf("unknown keyword %q", truncate(fields[0]))
}

// parseURL checks the optional URL field of a log or witness line.
func parseURL(args []string, what string) (string, error) {
	if len(args) == 0 {
		return "", nil
	}
	if len(args) > 1 {
		return "", fmt.Errorf("%s line has %d fields after the key, want at most a URL", what, len(args))
	}
	if _, err := url.Parse(args[0]); err != nil {
		return "", fmt.Errorf("%s URL %q: %v", what, truncate(args[0]), err)
	}
	return args[0], nil
}

func (b *policyBuilder) log(args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("want log <vkey> [<url>]")
	}
	if len(b.p.Logs) == maxPolicyEntries {
		return fmt.Errorf("more than %d logs", maxPolicyEntries)
	}
	k, err := ParseVerifierKey(args[0])
	if err != nil {
		return err
	}
	u, err := parseURL(args[1:], "log")
	if err != nil {
		return err
	}
	for _, l := range b.p.Logs {
		if bytes.Equal(l.Key.PublicKey, k.PublicKey) {
			return fmt.Errorf("log %q has the public key of log %q", k.Name, l.Key.Name)
		}
	}
	l := PolicyLog{Key: k, URL: u}
	if _, err := k.LogKey(); err != nil {
		l.Unsupported = err
	}
	b.p.Logs = append(b.p.Logs, l)
	return nil
}

// define checks that name is new and may name a witness or group.
func (b *policyBuilder) define(name string) error {
	if name == QuorumNone {
		return fmt.Errorf("%q is reserved", QuorumNone)
	}
	if _, ok := b.p.names[name]; ok {
		return fmt.Errorf("name %q is defined twice", truncate(name))
	}
	return nil
}

func (b *policyBuilder) witness(args []string) error {
	if len(args) < 2 {
		return fmt.Errorf("want witness <name> <vkey> [<url>]")
	}
	if len(b.p.Witnesses) == maxPolicyEntries {
		return fmt.Errorf("more than %d witnesses", maxPolicyEntries)
	}
	name := args[0]
	if err := b.define(name); err != nil {
		return err
	}
	k, err := ParseVerifierKey(args[1])
	if err != nil {
		return err
	}
	u, err := parseURL(args[2:], "witness")
	if err != nil {
		return err
	}
	for _, w := range b.p.Witnesses {
		if bytes.Equal(w.Key.PublicKey, k.PublicKey) {
			return fmt.Errorf("witness %q has the public key of witness %q", truncate(name), w.Name)
		}
	}
	w := PolicyWitness{Name: name, Key: k, URL: u}
	if w.Verifier, err = k.CosignatureVerifier(); err != nil {
		w.Verifier, w.Unsupported = nil, err
	}
	b.p.names[name] = len(b.p.nodes)
	b.p.nodes = append(b.p.nodes, policyNode{witness: len(b.p.Witnesses)})
	b.p.Witnesses = append(b.p.Witnesses, w)
	return nil
}

func (b *policyBuilder) group(args []string) error {
	if len(args) < 3 {
		return fmt.Errorf("want group <name> <k|all|any> <member>...")
	}
	if len(b.p.Groups) == maxPolicyEntries {
		return fmt.Errorf("more than %d groups", maxPolicyEntries)
	}
	name, k, members := args[0], args[1], args[2:]
	if err := b.define(name); err != nil {
		return err
	}
	var threshold int
	switch k {
	case "any":
		threshold = 1
	case "all":
		threshold = len(members)
	default:
		n, err := parsePolicyThreshold(k)
		if err != nil {
			return fmt.Errorf("group %q: threshold %q: %v", truncate(name), truncate(k), err)
		}
		if n < 1 || n > uint64(len(members)) {
			return fmt.Errorf("group %q: threshold %d outside 1..%d", truncate(name), n, len(members))
		}
		threshold = int(n)
	}
	node := policyNode{witness: -1, threshold: threshold}
	for _, m := range members {
		idx, ok := b.p.names[m]
		if !ok {
			return fmt.Errorf("group %q: member %q is not defined on a line before", truncate(name), truncate(m))
		}
		if other, ok := b.memberOf[m]; ok {
			return fmt.Errorf("group %q: %q is already a member of group %q", truncate(name), truncate(m), other)
		}
		b.memberOf[m] = name
		node.members = append(node.members, idx)
	}
	b.p.names[name] = len(b.p.nodes)
	b.p.nodes = append(b.p.nodes, node)
	b.p.Groups = append(b.p.Groups, PolicyGroup{Name: name, Threshold: threshold, Members: append([]string(nil), members...)})
	return nil
}

// parsePolicyThreshold parses a decimal threshold (leading zeros allowed, as Tessera reads them).
func parsePolicyThreshold(s string) (uint64, error) {
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("not all, any or a decimal number")
		}
	}
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil {
		return 0, fmt.Errorf("out of range")
	}
	return n, nil
}

func (b *policyBuilder) finish() error {
	switch q := b.p.Quorum; {
	case b.quorumLine == 0:
		return fmt.Errorf("no quorum line")
	case q == QuorumNone:
		b.p.quorum = -1
	default:
		idx, ok := b.p.names[q]
		if !ok {
			return fmt.Errorf("quorum %q names no witness or group", truncate(q))
		}
		b.p.quorum = idx
	}
	return nil
}
