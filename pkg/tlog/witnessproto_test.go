package tlog

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestAddCheckpointRequestRoundTrip(t *testing.T) {
	cp := []byte("log.example.com\n20\n" + testRoot + "\n\n\u2014 log.example.com AAAAAAAA\n")
	leaves := refLeaves(20)
	for _, old := range []uint64{0, 7, 20} {
		r := &AddCheckpointRequest{OldSize: old, Proof: refConsistency(int(old), leaves), Checkpoint: cp}
		back, err := ParseAddCheckpointRequest(r.Marshal())
		if err != nil {
			t.Fatalf("old %d: %v\n%s", old, err, r.Marshal())
		}
		if back.OldSize != old || len(back.Proof) != len(r.Proof) || !bytes.Equal(back.Checkpoint, cp) {
			t.Fatalf("old %d: round trip %+v", old, back)
		}
		for i := range r.Proof {
			if !bytes.Equal(back.Proof[i], r.Proof[i]) {
				t.Fatalf("old %d: proof hash %d differs", old, i)
			}
		}
	}
	// The example request of C2SP tlog-witness, shape for shape.
	body := "old 20852014\n" + strings.Repeat(testRoot+"\n", 4) + "\nexample.com/behind-the-sofa\n20852163\n" + testRoot + "\n\n\u2014 example.com/behind-the-sofa AAAAAAAA\n"
	r, err := ParseAddCheckpointRequest([]byte(body))
	if err != nil || r.OldSize != 20852014 || len(r.Proof) != 4 || !strings.HasPrefix(string(r.Checkpoint), "example.com/behind-the-sofa\n") {
		t.Fatalf("example: %+v %v", r, err)
	}
}

// Each case corrupts a valid request body.
func TestParseAddCheckpointRequestCorruptions(t *testing.T) {
	note := "o\n1\n" + testRoot + "\n\n\u2014 o AAAAAAAA\n"
	tests := map[string]string{
		"empty_body":            "",
		"no_old_line":           testRoot + "\n\n" + note,
		"old_without_newline":   "old 5",
		"old_leading_zero":      "old 05\n\n" + note,
		"old_negative":          "old -1\n\n" + note,
		"old_two_spaces":        "old  5\n\n" + note,
		"old_above_uint64":      "old 18446744073709551616\n\n" + note,
		"old_missing_size":      "old \n\n" + note,
		"proof_64_lines":        "old 5\n" + strings.Repeat(testRoot+"\n", 64) + "\n" + note,
		"proof_bad_base64":      "old 5\n!!!!\n\n" + note,
		"proof_short_hash":      "old 5\nAAAA\n\n" + note,
		"proof_line_with_space": "old 5\n" + testRoot + " \n\n" + note,
		"no_empty_line":         "old 5\n" + testRoot + "\n",
		"no_checkpoint":         "old 5\n\n",
	}
	for name, body := range tests {
		t.Run(name, func(t *testing.T) {
			if r, err := ParseAddCheckpointRequest([]byte(body)); !errors.Is(err, ErrMalformedWitnessRequest) {
				t.Fatalf("ParseAddCheckpointRequest = %+v, %v; want ErrMalformedWitnessRequest", r, err)
			}
		})
	}
	if _, err := ParseAddCheckpointRequest([]byte("old 5\n" + strings.Repeat(testRoot+"\n", 63) + "\n" + note)); err != nil {
		t.Fatalf("63 proof lines are allowed: %v", err)
	}
}
