package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cosign-like/cosign-like/pkg/attest"
	"github.com/cosign-like/cosign-like/pkg/ca/pki"
	"github.com/cosign-like/cosign-like/pkg/cosign"
	"github.com/cosign-like/cosign-like/pkg/oci"
	"github.com/cosign-like/cosign-like/pkg/oidc"
	"github.com/cosign-like/cosign-like/pkg/signer"
	"github.com/cosign-like/cosign-like/pkg/verify"
)

// An errorHint recognises one library error in a chain and says how the command line words it:
// from is that error's own message, to what the command line prints in its place (the same
// message, naming the flags that act on it).
type errorHint func(err error) (from, to string, ok bool)

// errorHints are the library errors a flag of this command line acts on. The libraries describe
// what is wrong in their own terms; the flags are named only here.
var errorHints = []errorHint{
	hintIs(oidc.ErrNoToken, suffix(": give --identity-token, set SIGSTORE_ID_TOKEN, or run in GitHub Actions with id-token: write")),
	hintAs(func(e *oidc.TokenError) (string, bool) {
		return "--identity-token: " + e.Reason, e.Source == oidc.SourceIdentityToken
	}),
	hintAs(func(e *oci.NoCredentialsError) (string, bool) {
		return e.Error() + " (docker login, or --registry-username/--registry-password)", true
	}),
	hintAs(func(e *pki.KeyReferenceError) (string, bool) {
		return fmt.Sprintf("--kms %q: %v", e.Ref, pki.ErrNotPKCS11), true
	}),
	hintIs(cosign.ErrNoCA, suffix(": pass --fulcio-url or a signing config that lists one")),
	hintIs(cosign.ErrNoTimestampAuthority, suffix(": pass --timestamp-server-url or a signing config that lists one")),
	hintIs(cosign.ErrNoTransparencyLog, suffix(": pass --rekor-url or --signing-config, or --tlog-upload=false to sign without a log entry")),
	hintIs(cosign.ErrLegacyNoLog, replace("the legacy layout (--new-bundle-format=false) cannot carry a Rekor v2 log entry: sign with the new bundle format, or with --tlog-upload=false")),
	hintAs(func(e *attest.SizeError) (string, bool) {
		if e.What == "" { // "N bytes, the limit is M": an attestation already fetched
			return e.Error() + " (--max-attestation-size)", true
		}
		return e.Error() + " (raise it with --max-attestation-size)", true
	}),
	hintIs(attest.ErrSPDXTagValue, suffix(" (--type spdxjson)")),
	hintAs(func(e *verify.MissingTlogEntryError) (string, bool) {
		return fmt.Sprintf("%v: the bundle has no transparency log entry (%d required; --insecure-ignore-tlog skips this check)", verify.ErrTlog, e.Required), true
	}),
	hintIs(verify.ErrNoSCT, suffix(" (--insecure-ignore-sct skips this check)")),
	hintIs(signer.ErrPINConflict, replace("PKCS#11 PIN given twice with different values (pin-value in the URI and --pin)")),
	hintAs(func(e *signer.PINRequiredError) (string, bool) {
		return fmt.Sprintf("token %q needs a PIN: give pin-value in the URI, --pin or %s", e.Token, signer.EnvPKCS11PIN), true
	}),
}

// hintIs is the hint for a sentinel error: say turns its message into the command line's.
func hintIs(sentinel error, say func(msg string) string) errorHint {
	return func(err error) (string, string, bool) {
		if !errors.Is(err, sentinel) {
			return "", "", false
		}
		return sentinel.Error(), say(sentinel.Error()), true
	}
}

// hintAs is the hint for an error type: say returns the command line's message for e, and
// whether it has one.
func hintAs[E error](say func(e E) (string, bool)) errorHint {
	return func(err error) (string, string, bool) {
		var e E
		if !errors.As(err, &e) {
			return "", "", false
		}
		to, ok := say(e)
		return e.Error(), to, ok
	}
}

func suffix(hint string) func(string) string {
	return func(msg string) string { return msg + hint }
}

func replace(to string) func(string) string {
	return func(string) string { return to }
}

// flagHint returns err with the first hint of errorHints that applies: its message is err's,
// with the library error's words replaced by the command line's. errors.Is and errors.As see
// err unchanged.
func flagHint(err error) error {
	if err == nil {
		return nil
	}
	for _, hint := range errorHints {
		from, to, ok := hint(err)
		if !ok {
			continue
		}
		if msg := err.Error(); strings.Contains(msg, from) {
			return &hintedError{err: err, msg: strings.ReplaceAll(msg, from, to)}
		}
	}
	return err
}

// hintedError is an error worded for the command line.
type hintedError struct {
	err error
	msg string
}

func (e *hintedError) Error() string { return e.msg }
func (e *hintedError) Unwrap() error { return e.err }

// addFlagHints makes root and every command below it return their errors through flagHint.
func addFlagHints(root *cobra.Command) {
	if run := root.RunE; run != nil {
		root.RunE = func(cmd *cobra.Command, args []string) error { return flagHint(run(cmd, args)) }
	}
	for _, sub := range root.Commands() {
		addFlagHints(sub)
	}
}
