package tlog

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/transparency-dev/tessera"
)

// policyFixture is a log and six witnesses in two groups, as in C2SP tlog-policy's example.
type policyFixture struct {
	logVKey string
	log     func(t *testing.T, body string) []byte
	x, y    []*CosignatureSigner
}

func newPolicyFixture(t *testing.T) *policyFixture {
	t.Helper()
	logSigner, logKey := testEd25519Log(t, "log.example.com")
	vk, err := logKey.VerifierKey()
	if err != nil {
		t.Fatal(err)
	}
	f := &policyFixture{logVKey: vk.String(), log: func(t *testing.T, body string) []byte { return signNote(t, body, logSigner) }}
	for i := range 3 {
		f.x = append(f.x, testWitness(t, fmt.Sprintf("x.example.com/w%d", i+1), byte(10+i)))
		f.y = append(f.y, testWitness(t, fmt.Sprintf("y.example.com/w%d", i+1), byte(20+i)))
	}
	return f
}

// policy is the two-level policy: two of the X witnesses and one of the Y witnesses.
func (f *policyFixture) policy(extra string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "log %s https://log.example.com/\n\n", f.logVKey)
	for i, w := range f.x {
		fmt.Fprintf(&b, "witness X%d %s\n", i+1, w.Verifier().VerifierKey())
	}
	b.WriteString("group X-witnesses 2 X1 X2 X3\n\n")
	for i, w := range f.y {
		fmt.Fprintf(&b, "witness Y%d %s https://y.example.com/w%d\n", i+1, w.Verifier().VerifierKey(), i+1)
	}
	b.WriteString("group Y-witnesses any Y1 Y2 Y3\n")
	b.WriteString(extra)
	b.WriteString("group X-and-Y all X-witnesses Y-witnesses\nquorum X-and-Y\n")
	return b.String()
}

func mustPolicy(t *testing.T, text string) *WitnessPolicy {
	t.Helper()
	p, err := ParseWitnessPolicy([]byte(text))
	if err != nil {
		t.Fatalf("ParseWitnessPolicy: %v\n%s", err, text)
	}
	return p
}

func TestParseWitnessPolicyC2SPExample(t *testing.T) {
	f := newPolicyFixture(t)
	p := mustPolicy(t, f.policy(""))
	if len(p.Logs) != 1 || p.Logs[0].Key.Name != "log.example.com" || p.Logs[0].URL != "https://log.example.com/" || p.Logs[0].Unsupported != nil {
		t.Fatalf("logs %+v", p.Logs)
	}
	if len(p.LogKeys()) != 1 {
		t.Fatalf("log keys %+v", p.LogKeys())
	}
	if len(p.Witnesses) != 6 || p.Witnesses[0].URL != "" || p.Witnesses[3].URL != "https://y.example.com/w1" {
		t.Fatalf("witnesses %+v", p.Witnesses)
	}
	want := []PolicyGroup{{"X-witnesses", 2, []string{"X1", "X2", "X3"}}, {"Y-witnesses", 1, []string{"Y1", "Y2", "Y3"}}, {"X-and-Y", 2, []string{"X-witnesses", "Y-witnesses"}}}
	if fmt.Sprint(p.Groups) != fmt.Sprint(want) || p.Quorum != "X-and-Y" {
		t.Fatalf("groups %+v quorum %q", p.Groups, p.Quorum)
	}
}

// Tessera v1.0.4 reads policies with a URL on every witness line, comments after a '#' field,
// free whitespace, and plain Ed25519 (type 0x01) witness vkeys.
func TestParseWitnessPolicyTesseraForm(t *testing.T) {
	logSigner, _ := testEd25519Log(t, "log.example.com")
	w1, w2 := testWitness(t, "sigsum.example/w1", 30), testWitness(t, "example.com/w2", 31)
	// A plain Ed25519 vkey of w2's key, as Tessera's examples write witness keys.
	plain := vkeyOf(w2.Name(), NoteKeyEd25519, w2.Verifier().PublicKey())
	text := "\n# comment\n" +
		"witness   w1      " + w1.Verifier().VerifierKey().String() + "     https://sigsum.example/witness/    #comment\n" +
		"  witness w2\t" + plain + "  https://example.com/witness/\r\n" +
		"\n\t\t     #comment\n" +
		"group      g1    all     w1  w2\n" +
		"\t quorum      g1" // no final newline
	p := mustPolicy(t, text)
	if len(p.Witnesses) != 2 || p.Witnesses[0].URL != "https://sigsum.example/witness/" || p.Witnesses[1].URL != "https://example.com/witness/" {
		t.Fatalf("witnesses %+v", p.Witnesses)
	}
	if p.Groups[0].Threshold != 2 || p.Quorum != "g1" {
		t.Fatalf("groups %+v quorum %q", p.Groups, p.Quorum)
	}
	body := "log.example.com\n5\n" + testRoot + "\n"
	signed := signNote(t, body, logSigner)
	c1, _ := w1.Cosign([]byte(body), time.Unix(1700000000, 0))
	c2, _ := w2.Cosign([]byte(body), time.Unix(1700000001, 0))
	if err := p.Satisfied(CosignedNote(signed, c1, c2)); err != nil {
		t.Fatalf("both cosigned: %v", err)
	}
	if err := p.Satisfied(CosignedNote(signed, c1)); !errors.Is(err, ErrQuorumNotMet) {
		t.Fatalf("one of all: %v", err)
	}
	if _, err := (&WitnessPolicy{}).VerifyCheckpoint(signed); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("a policy without logs verifies no checkpoint: %v", err)
	}
}

// What C2SP allows beyond Tessera: log lines, witnesses without a URL, keys of other types (kept
// and reported as unsupported), a quorum of none.
func TestParseWitnessPolicyBeyondTessera(t *testing.T) {
	w := testWitness(t, "w.example.com", 40)
	ecdsaLog := vkeyOf("v1.example.com", NoteKeyECDSA, []byte{0x30, 0x59, 1, 2, 3})
	text := "log " + ecdsaLog + "\n" +
		"witness pq " + mldsaVKey("pq.example.com", 3) + "\n" +
		"witness ed " + w.Verifier().VerifierKey().String() + "\n" +
		"group both all pq ed\n" +
		"quorum both\n"
	p := mustPolicy(t, text)
	if p.Logs[0].Unsupported == nil || !errors.Is(p.Logs[0].Unsupported, ErrUnsupportedKey) || len(p.LogKeys()) != 0 {
		t.Fatalf("ECDSA log: %+v", p.Logs[0])
	}
	if p.Witnesses[0].Verifier != nil || !errors.Is(p.Witnesses[0].Unsupported, ErrUnsupportedCosignatureKey) {
		t.Fatalf("ML-DSA-44 witness: %+v", p.Witnesses[0])
	}
	body := "log.example.com\n5\n" + testRoot + "\n"
	c, _ := w.Cosign([]byte(body), time.Unix(1700000000, 0))
	err := p.Satisfied(CosignedNote([]byte(body+"\n"), c))
	if !errors.Is(err, ErrQuorumNotMet) || !strings.Contains(err.Error(), "unsupported witness keys, never counted: pq") {
		t.Fatalf("a quorum that needs the ML-DSA-44 witness: %v", err)
	}
	// The unsupported witness never counts, even when said to have cosigned.
	if p.QuorumMet(func(string) bool { return true }) {
		t.Fatal("quorum met through an unsupported witness")
	}

	none := mustPolicy(t, "quorum none\n")
	if err := none.Satisfied([]byte(body + "\n\u2014 log.example.com AAAAAAAA\n")); err != nil {
		t.Fatalf("quorum none: %v", err)
	}
}

// Each case corrupts a valid policy in one way; the error names the line.
func TestParseWitnessPolicyCorruptions(t *testing.T) {
	a, b := testWitness(t, "a.example.com", 50), testWitness(t, "b.example.com", 51)
	va, vb := a.Verifier().VerifierKey().String(), b.Verifier().VerifierKey().String()
	base := "witness A " + va + "\nwitness B " + vb + "\n"
	tests := []struct {
		name   string
		policy string
		line   int
		msg    string
	}{
		{"no_quorum", base, 0, "no quorum line"},
		{"two_quorums", base + "quorum A\nquorum B\n", 4, "second quorum line"},
		{"quorum_unknown_name", base + "quorum C\n", 3, `quorum "C" names no witness or group`},
		{"quorum_without_name", base + "quorum\n", 3, "want quorum <name>"},
		{"group_forward_reference", base + "group g any A C\nwitness C " + va + "\nquorum g\n", 3, `member "C" is not defined`},
		{"threshold_zero", base + "group g 0 A B\nquorum g\n", 3, "threshold 0 outside 1..2"},
		{"threshold_above_members", base + "group g 3 A B\nquorum g\n", 3, "threshold 3 outside 1..2"},
		{"threshold_negative", base + "group g -1 A B\nquorum g\n", 3, "not all, any or a decimal number"},
		{"threshold_huge", base + "group g 99999999999 A B\nquorum g\n", 3, "out of range"},
		{"group_without_members", base + "group g any\nquorum g\n", 3, "want group"},
		{"duplicate_name", base + "witness A " + mldsaVKey("c", 1) + "\nquorum A\n", 3, `name "A" is defined twice`},
		{"group_named_like_witness", base + "group A any B\nquorum A\n", 3, `name "A" is defined twice`},
		{"duplicate_witness_key", base + "witness C " + vkeyOf("c.example.com", NoteKeyEd25519, a.Verifier().PublicKey()) + "\nquorum A\n", 3, `has the public key of witness "A"`},
		{"duplicate_log_key", "log " + vkeyOf("l", NoteKeyEd25519, a.Verifier().PublicKey()) + "\nlog " + vkeyOf("m", NoteKeyEd25519, a.Verifier().PublicKey()) + "\nquorum none\n", 2, "has the public key of log"},
		{"member_listed_twice", base + "group g 1 A A\nquorum g\n", 3, `"A" is already a member of group "g"`},
		{"member_of_two_groups", base + "group g any A\ngroup h any A B\nquorum h\n", 4, `"A" is already a member of group "g"`},
		{"none_as_member", base + "group g any A none\nquorum g\n", 3, `member "none" is not defined`},
		{"none_as_name", "witness none " + va + "\nquorum none\n", 1, `"none" is reserved`},
		{"unknown_keyword", base + "witnesses C\nquorum A\n", 3, `unknown keyword "witnesses"`},
		{"control_character", base + "quorum A\x0b\n", 3, "control character 0x0b"},
		{"witness_missing_key", "witness A\nquorum A\n", 1, "want witness <name> <vkey>"},
		{"malformed_vkey", "witness A a.example.com+0000+AAAA\nquorum A\n", 1, "malformed note verifier key"},
		{"extra_fields", "witness A " + va + " https://a.example.com/ extra\nquorum A\n", 1, "want at most a URL"},
		{"bad_url", "witness A " + va + " http://[::1\nquorum A\n", 1, "witness URL"},
		{"log_without_key", "log\nquorum none\n", 1, "want log <vkey>"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := ParseWitnessPolicy([]byte(tc.policy))
			var pe *PolicyError
			if !errors.As(err, &pe) || !errors.Is(err, ErrMalformedPolicy) {
				t.Fatalf("ParseWitnessPolicy = %+v, %v; want a *PolicyError", p, err)
			}
			if pe.Line != tc.line || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("error %q (line %d), want line %d and %q", err, pe.Line, tc.line, tc.msg)
			}
		})
	}
	big := bytes.Repeat([]byte("#\n"), MaxPolicySize/2+1)
	if _, err := ParseWitnessPolicy(big); !errors.Is(err, ErrMalformedPolicy) {
		t.Fatalf("oversized policy: %v", err)
	}
	many := &strings.Builder{}
	for i := range maxPolicyEntries + 1 {
		fmt.Fprintf(many, "witness w%d %s\n", i, testWitness(t, "w", byte(i)).Verifier().VerifierKey())
	}
	if _, err := ParseWitnessPolicy([]byte(many.String() + "quorum w0\n")); err == nil || !strings.Contains(err.Error(), "more than 256 witnesses") {
		t.Fatalf("too many witnesses: %v", err)
	}
}

// Each case builds a note for the two-level policy, with one thing wrong or missing.
func TestWitnessPolicySatisfied(t *testing.T) {
	f := newPolicyFixture(t)
	stranger := testWitness(t, "x.example.com/w1", 99) // X1's name, another key
	p := mustPolicy(t, f.policy(""))
	body := "log.example.com\n1000\n" + testRoot + "\n"
	other := "log.example.com\n1001\n" + testRoot + "\n"
	at := func(s *CosignatureSigner) *Cosignature {
		c, err := s.Cosign([]byte(body), time.Unix(1700000000, 0))
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	signed := f.log(t, body)
	tests := []struct {
		name  string
		cosig []*Cosignature
		want  error
		names string
	}{
		{"quorum_met", []*Cosignature{at(f.x[0]), at(f.x[2]), at(f.y[1])}, nil, "X1 X3 Y2"},
		{"every_witness", []*Cosignature{at(f.x[0]), at(f.x[1]), at(f.x[2]), at(f.y[0]), at(f.y[1]), at(f.y[2])}, nil, "X1 X2 X3 Y1 Y2 Y3"},
		{"too_few_witnesses", []*Cosignature{at(f.x[0]), at(f.y[0])}, ErrQuorumNotMet, "X1 Y1"},
		{"no_y_witness", []*Cosignature{at(f.x[0]), at(f.x[1]), at(f.x[2])}, ErrQuorumNotMet, "X1 X2 X3"},
		{"no_cosignature", nil, ErrQuorumNotMet, ""},
		{"same_witness_twice", []*Cosignature{at(f.x[0]), at(f.x[0]), at(f.y[0])}, ErrQuorumNotMet, "X1 Y1"},
		{"unknown_key", []*Cosignature{at(stranger), at(f.x[1]), at(f.y[0])}, ErrQuorumNotMet, "X2 Y1"},
		{"wrong_body", []*Cosignature{cosignAt(f.x[0], 1700000000, []byte(other)), at(f.x[1]), at(f.y[0])}, ErrBadCosignature, ""},
		{"zero_timestamp", []*Cosignature{cosignAt(f.x[0], 0, []byte(body)), at(f.x[1]), at(f.y[0])}, ErrCosignatureTimestamp, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n := CosignedNote(signed, tc.cosig...)
			err := p.Satisfied(n)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("Satisfied: %v", err)
				}
				cp, err := p.VerifyCheckpoint(n)
				if err != nil || cp.Size != 1000 {
					t.Fatalf("VerifyCheckpoint: %v", err)
				}
			} else if !errors.Is(err, tc.want) {
				t.Fatalf("Satisfied = %v, want %v", err, tc.want)
			}
			if tc.want == nil || errors.Is(tc.want, ErrQuorumNotMet) {
				found, err := p.Cosignatures(n)
				if err != nil {
					t.Fatal(err)
				}
				var names []string
				for _, w := range p.Witnesses {
					if found[w.Name] != nil {
						names = append(names, w.Name)
					}
				}
				if got := strings.Join(names, " "); got != tc.names {
					t.Fatalf("cosigners %q, want %q", got, tc.names)
				}
			}
		})
	}
	// A checkpoint the policy's log did not sign is refused even with a quorum.
	unsigned := CosignedNote([]byte(body+"\n"), at(f.x[0]), at(f.x[1]), at(f.y[0]))
	if _, err := p.VerifyCheckpoint(append(unsigned, []byte("\u2014 log.example.com AAAAAAAAAA==\n")...)); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("VerifyCheckpoint without the log's signature: %v", err)
	}
	single := mustPolicy(t, "witness solo "+f.x[0].Verifier().VerifierKey().String()+"\nquorum solo\n")
	if err := single.Satisfied(CosignedNote(signed, at(f.x[0]))); err != nil {
		t.Fatalf("a single witness as the quorum: %v", err)
	}
	if err := single.Satisfied(signed); !errors.Is(err, ErrQuorumNotMet) {
		t.Fatalf("a single witness that did not cosign: %v", err)
	}
	if err := p.Satisfied([]byte("not a note")); !errors.Is(err, ErrMalformedNote) {
		t.Fatalf("not a note: %v", err)
	}
}

// Tessera v1.0.4's own parser and ours read the same Tessera-form policies to the same verdicts.
func TestWitnessPolicyAgreesWithTessera(t *testing.T) {
	ws := make([]*CosignatureSigner, 4)
	for i := range ws {
		ws[i] = testWitness(t, fmt.Sprintf("w%d.example.com", i), byte(60+i))
	}
	vkey := func(i int) string {
		if i%2 == 0 { // Tessera's examples use plain Ed25519 vkeys; C2SP's, cosignature ones
			return vkeyOf(ws[i].Name(), NoteKeyEd25519, ws[i].Verifier().PublicKey())
		}
		return ws[i].Verifier().VerifierKey().String()
	}
	var lines strings.Builder
	for i := range ws {
		fmt.Fprintf(&lines, "witness w%d %s https://w%d.example.com/\n", i, vkey(i), i)
	}
	policies := []string{
		"group g all w0 w1\nquorum g\n",
		"group g any w0 w1 w2\nquorum g\n",
		"group a 2 w0 w1 w2\ngroup b all a w3\nquorum b\n",
		"quorum w2\n",
		"quorum none\n",
	}
	body := "log.example.com\n7\n" + testRoot + "\n"
	cos := make([]*Cosignature, len(ws))
	for i, w := range ws {
		cos[i], _ = w.Cosign([]byte(body), time.Unix(1700000000, 0))
	}
	for _, text := range policies {
		ours := mustPolicy(t, lines.String()+text)
		theirs, err := tessera.NewWitnessGroupFromPolicy([]byte(lines.String() + text))
		if err != nil {
			t.Fatalf("Tessera refuses %q: %v", text, err)
		}
		for subset := range 1 << len(ws) {
			var picked []*Cosignature
			for i := range ws {
				if subset&(1<<i) != 0 {
					picked = append(picked, cos[i])
				}
			}
			n := CosignedNote([]byte(body+"\n\u2014 log.example.com AAAAAAAA\n"), picked...)
			if got, want := ours.Satisfied(n) == nil, theirs.Satisfied(n); got != want {
				t.Fatalf("policy %q, cosigners %04b: ours %v, Tessera %v", text, subset, got, want)
			}
		}
	}
}
