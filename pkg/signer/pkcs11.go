package signer

import (
	"context"
	"crypto"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/ThalesGroup/crypto11"
	"github.com/miekg/pkcs11"
	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
)

// Environment variables read, as in cosign, when neither the URI nor an option gives a value.
const (
	// EnvPKCS11ModulePath names the PKCS#11 module (shared library) to load.
	EnvPKCS11ModulePath = "COSIGN_PKCS11_MODULE_PATH"
	// EnvPKCS11PIN holds the user PIN of the token.
	EnvPKCS11PIN = "COSIGN_PKCS11_PIN"
)

var (
	// ErrPINIncorrect is returned when a token refuses the PIN.
	ErrPINIncorrect = errors.New("PIN incorrect")
	// ErrTokenNotFound is returned when no token of the module matches the URI.
	ErrTokenNotFound = errors.New("token not found")
	// ErrKeyNotFound is returned when the token holds no key pair matching the URI.
	ErrKeyNotFound = errors.New("key not found")
	// ErrPINConflict is returned when the URI's pin-value and WithPKCS11PIN disagree.
	ErrPINConflict = errors.New("PKCS#11 PIN given twice with different values (pin-value in the URI and WithPKCS11PIN)")
	// ErrPINRequired is returned when a token needs a PIN and none is given.
	ErrPINRequired = errors.New("PIN required")
)

// PINRequiredError names the token that needs a PIN when the URI, WithPKCS11PIN,
// COSIGN_PKCS11_PIN and the prompt give none. It matches ErrPINRequired.
type PINRequiredError struct {
	Token string
}

// Error names the token and where a PIN can come from.
func (e *PINRequiredError) Error() string {
	return fmt.Sprintf("token %q needs a PIN: give pin-value in the URI, WithPKCS11PIN or %s", e.Token, EnvPKCS11PIN)
}

// Is makes errors.Is(err, ErrPINRequired) true.
func (e *PINRequiredError) Is(target error) bool { return target == ErrPINRequired }

// pkcs11Sessions keeps one logged-in crypto11 context (one session pool) per module and token
// for the life of the process, so that repeated signing pays no C_Initialize, C_OpenSession or
// C_Login. It is process-wide because a PKCS#11 module is: C_Initialize and the login state
// belong to the process, not to a caller. ClosePKCS11 releases everything.
var pkcs11Sessions = &pkcs11Registry{tokens: map[string]*pkcs11Token{}, slots: map[string]string{}}

type pkcs11Registry struct {
	mu sync.Mutex
	// tokens holds the open contexts by module and slot (slotKey).
	tokens map[string]*pkcs11Token
	// slots remembers which slotKey a URI's token selector resolved to (selectorKey), so that
	// loading a key again needs no slot listing.
	slots map[string]string
}

type pkcs11Token struct {
	ctx    *crypto11.Context
	pin    string
	module string
}

// ClosePKCS11 closes every PKCS#11 session this process opened and finalizes the modules. Keys
// loaded before must not be used afterwards.
func ClosePKCS11() error {
	r := pkcs11Sessions
	r.mu.Lock()
	defer r.mu.Unlock()
	var errs []error
	for k, t := range r.tokens {
		if err := t.ctx.Close(); err != nil {
			errs = append(errs, err)
		}
		delete(r.tokens, k)
	}
	clear(r.slots)
	return errors.Join(errs...)
}

// pkcs11Config is a parsed URI completed with the module path and PIN from options or the
// environment.
type pkcs11Config struct {
	uri       *PKCS11URI
	pinPrompt func(token string) (string, error)
}

func (c pkcs11Config) tokenName() string {
	switch {
	case c.uri.Token != "":
		return c.uri.Token
	case c.uri.Serial != "":
		return "serial " + c.uri.Serial
	default:
		return fmt.Sprintf("slot %d", *c.uri.SlotID)
	}
}

func (c pkcs11Config) keyName() string {
	if c.uri.Object != "" {
		return c.uri.Object
	}
	return fmt.Sprintf("id %x", c.uri.ID)
}

// resolvePKCS11 parses keyRef and fills in module path and PIN: the URI first, then options,
// then COSIGN_PKCS11_MODULE_PATH / COSIGN_PKCS11_PIN.
func resolvePKCS11(keyRef string, o *loadOptions, needKey bool) (pkcs11Config, error) {
	u, err := parsePKCS11URI(keyRef, needKey)
	if err != nil {
		return pkcs11Config{}, err
	}
	if u.PIN != "" && o.pkcs11PIN != "" && u.PIN != o.pkcs11PIN {
		return pkcs11Config{}, ErrPINConflict
	}
	if u.PIN == "" {
		u.PIN = o.pkcs11PIN
	}
	if u.PIN == "" {
		u.PIN = os.Getenv(EnvPKCS11PIN)
	}
	if u.ModulePath == "" {
		u.ModulePath = o.pkcs11ModulePath
	}
	if u.ModulePath == "" {
		u.ModulePath = os.Getenv(EnvPKCS11ModulePath)
	}
	if err := checkModulePath(u.ModulePath); err != nil {
		return pkcs11Config{}, err
	}
	return pkcs11Config{uri: u, pinPrompt: o.pkcs11PINPrompt}, nil
}

func checkModulePath(path string) error {
	if path == "" {
		return fmt.Errorf("no PKCS#11 module: give module-path in the URI or set %s", EnvPKCS11ModulePath)
	}
	if !filepath.IsAbs(path) {
		return fmt.Errorf("PKCS#11 module path %q is not absolute", path)
	}
	fi, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("PKCS#11 module: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("PKCS#11 module %s is not a regular file", path)
	}
	return nil
}

// openToken returns the logged-in context for the token the config names, opening it once.
// Contexts are kept per module and slot, so that two URIs naming one token (by label and by
// slot-id) share one context and one PIN check: a second crypto11 login on a token the process
// is logged in to would succeed whatever PIN it is given.
func (r *pkcs11Registry) openToken(c pkcs11Config) (*crypto11.Context, error) {
	u := c.uri
	if u.PIN == "" && c.pinPrompt != nil {
		pin, err := c.pinPrompt(c.tokenName())
		if err != nil {
			return nil, fmt.Errorf("reading the PIN of token %q: %w", c.tokenName(), err)
		}
		u.PIN = pin
	}
	if u.PIN == "" {
		return nil, &PINRequiredError{Token: c.tokenName()}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if key, ok := r.slots[selectorKey(u)]; ok {
		if t, ok := r.tokens[key]; ok {
			if subtle.ConstantTimeCompare([]byte(t.pin), []byte(u.PIN)) != 1 {
				return nil, fmt.Errorf("token %q: %w", c.tokenName(), ErrPINIncorrect)
			}
			return t.ctx, nil
		}
	}
	if !r.moduleOpenLocked(u.ModulePath) {
		// No token of this module is open, so nothing is logged in: log in by the URI's
		// selector (one C_Initialize), then find the slot for the cache.
		ctx, err := r.configureLocked(c, nil)
		if err != nil {
			return nil, err
		}
		slot, err := r.resolveSlotLocked(c)
		if err != nil {
			ctx.Close()
			return nil, err
		}
		r.tokens[slotKey(u.ModulePath, slot)] = &pkcs11Token{ctx: ctx, pin: u.PIN, module: u.ModulePath}
		r.slots[selectorKey(u)] = slotKey(u.ModulePath, slot)
		return ctx, nil
	}
	slot, err := r.resolveSlotLocked(c)
	if err != nil {
		return nil, err
	}
	key := slotKey(u.ModulePath, slot)
	r.slots[selectorKey(u)] = key
	if t, ok := r.tokens[key]; ok {
		if subtle.ConstantTimeCompare([]byte(t.pin), []byte(u.PIN)) != 1 {
			return nil, fmt.Errorf("token %q: %w", c.tokenName(), ErrPINIncorrect)
		}
		return t.ctx, nil
	}
	ctx, err := r.configureLocked(c, &slot)
	if err != nil {
		return nil, err
	}
	r.tokens[key] = &pkcs11Token{ctx: ctx, pin: u.PIN, module: u.ModulePath}
	return ctx, nil
}

func slotKey(module string, slot uint) string { return module + "\x00" + fmt.Sprint(slot) }

// selectorKey identifies the token selectors of a URI (module, label, slot-id, serial).
func selectorKey(u *PKCS11URI) string {
	slot := ""
	if u.SlotID != nil {
		slot = fmt.Sprint(*u.SlotID)
	}
	return strings.Join([]string{u.ModulePath, u.Token, slot, u.Serial}, "\x00")
}

// moduleOpenLocked reports whether a context of the module is open (the module is initialised).
func (r *pkcs11Registry) moduleOpenLocked(module string) bool {
	for _, t := range r.tokens {
		if t.module == module {
			return true
		}
	}
	return false
}

// configureLocked opens and logs in a crypto11 context on the given slot, or on the token the
// URI selects when slot is nil.
func (r *pkcs11Registry) configureLocked(c pkcs11Config, slot *uint) (*crypto11.Context, error) {
	u := c.uri
	cfg := &crypto11.Config{Path: u.ModulePath, Pin: u.PIN, MaxSessions: 16, PoolWaitTimeout: 30 * time.Second}
	switch {
	case slot != nil:
		n := int(*slot)
		cfg.SlotNumber = &n
	case u.Token != "":
		cfg.TokenLabel = u.Token
	case u.Serial != "":
		cfg.TokenSerial = u.Serial
	default:
		cfg.SlotNumber = u.SlotID
	}
	ctx, err := crypto11.Configure(cfg)
	if err != nil {
		return nil, r.explainConfigureError(c, err)
	}
	return ctx, nil
}

// resolveSlotLocked finds the slot of the token the URI names; every selector given (token,
// serial, slot-id) must match that one token. Callers hold r.mu.
func (r *pkcs11Registry) resolveSlotLocked(c pkcs11Config) (uint, error) {
	u := c.uri
	tokens, err := r.listTokensLocked(u.ModulePath)
	if err != nil {
		return 0, err
	}
	var labels []string
	for _, t := range tokens {
		if t.Label != "" { // uninitialised tokens have no label
			labels = append(labels, fmt.Sprintf("%q (slot %d)", t.Label, t.Slot))
		}
		if (u.Token == "" || t.Label == u.Token) && (u.Serial == "" || t.Serial == u.Serial) &&
			(u.SlotID == nil || uint(*u.SlotID) == t.Slot) {
			return t.Slot, nil
		}
	}
	known := "none"
	if len(labels) > 0 {
		known = strings.Join(labels, ", ")
	}
	return 0, fmt.Errorf("no token %q in PKCS#11 module %s (tokens: %s): %w", c.tokenName(), u.ModulePath, known, ErrTokenNotFound)
}

// explainConfigureError turns crypto11's errors into messages naming token and cause. It is
// called with r.mu held.
func (r *pkcs11Registry) explainConfigureError(c pkcs11Config, err error) error {
	var p11 pkcs11.Error
	if errors.As(err, &p11) {
		switch p11 {
		case pkcs11.CKR_PIN_INCORRECT, pkcs11.CKR_PIN_LEN_RANGE, pkcs11.CKR_PIN_INVALID:
			return fmt.Errorf("token %q: %w", c.tokenName(), ErrPINIncorrect)
		case pkcs11.CKR_PIN_LOCKED:
			return fmt.Errorf("token %q: PIN locked (too many wrong PINs): %w", c.tokenName(), ErrPINIncorrect)
		}
	}
	if strings.Contains(err.Error(), "could not find PKCS#11 token") {
		if _, rerr := r.resolveSlotLocked(c); rerr != nil {
			return rerr // names the tokens the module has
		}
		return fmt.Errorf("no token %q in PKCS#11 module %s: %w", c.tokenName(), c.uri.ModulePath, ErrTokenNotFound)
	}
	if strings.Contains(err.Error(), "failed to create module context") {
		return fmt.Errorf("loading PKCS#11 module %s: %w", c.uri.ModulePath, err)
	}
	return fmt.Errorf("opening token %q of PKCS#11 module %s: %w", c.tokenName(), c.uri.ModulePath, err)
}

// pkcs11Signer signs with a key that stays on a PKCS#11 token.
type pkcs11Signer struct {
	key  crypto11.Signer
	alg  protocommon.PublicKeyDetails
	hash crypto.Hash
}

func (s *pkcs11Signer) Public() crypto.PublicKey                { return s.key.Public() }
func (s *pkcs11Signer) Algorithm() protocommon.PublicKeyDetails { return s.alg }
func (s *pkcs11Signer) HashFunc() crypto.Hash                   { return s.hash }
func (s *pkcs11Signer) cryptoSigner() crypto.Signer             { return s.key }

func (s *pkcs11Signer) SignDigest(ctx context.Context, digest []byte) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := checkDigest(s.hash, digest); err != nil {
		return nil, err
	}
	sig, err := s.key.Sign(rand.Reader, digest, s.hash)
	if err != nil {
		return nil, fmt.Errorf("signing on PKCS#11 token: %w", err)
	}
	return sig, nil
}

func loadPKCS11Signer(ctx context.Context, keyRef string, o *loadOptions) (Signer, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	c, err := resolvePKCS11(keyRef, o, true)
	if err != nil {
		return nil, err
	}
	p11, err := pkcs11Sessions.openToken(c)
	if err != nil {
		return nil, err
	}
	keys, err := p11.FindKeyPairs(c.uri.ID, []byte(c.uri.Object))
	if err != nil {
		if strings.Contains(err.Error(), "unsupported key type") {
			return nil, fmt.Errorf("key %q on token %q: %w: %v (ECDSA or RSA required)", c.keyName(), c.tokenName(), ErrUnsupportedKey, err)
		}
		return nil, fmt.Errorf("looking up key %q on token %q: %w", c.keyName(), c.tokenName(), err)
	}
	switch len(keys) {
	case 0:
		return nil, fmt.Errorf("no key %q on token %q: %w", c.keyName(), c.tokenName(), ErrKeyNotFound)
	case 1:
	default:
		return nil, fmt.Errorf("%d keys match %q on token %q: add id= to the URI", len(keys), c.keyName(), c.tokenName())
	}
	alg, hash, err := AlgorithmFor(keys[0].Public())
	if err != nil {
		return nil, fmt.Errorf("key %q on token %q: %w", c.keyName(), c.tokenName(), err)
	}
	return &pkcs11Signer{key: keys[0], alg: alg, hash: hash}, nil
}

// createPKCS11Key generates a key pair on the token; the URI's object becomes its label and its
// id (or 16 random bytes) its CKA_ID. An existing key of that label or id is never replaced.
func createPKCS11Key(ctx context.Context, keyRef, alg string, o *loadOptions) (crypto.PublicKey, *PKCS11URI, error) {
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	c, err := resolvePKCS11(keyRef, o, true)
	if err != nil {
		return nil, nil, err
	}
	if c.uri.Object == "" {
		return nil, nil, errors.New("PKCS#11 URI: object= is required to create a key (it becomes the key's label)")
	}
	p11, err := pkcs11Sessions.openToken(c)
	if err != nil {
		return nil, nil, err
	}
	for _, probe := range []struct{ id, label []byte }{{nil, []byte(c.uri.Object)}, {c.uri.ID, nil}} {
		if len(probe.id) == 0 && len(probe.label) == 0 {
			continue
		}
		existing, err := p11.FindKeyPairs(probe.id, probe.label)
		if err != nil {
			return nil, nil, fmt.Errorf("looking for existing keys on token %q: %w", c.tokenName(), err)
		}
		if len(existing) > 0 {
			return nil, nil, fmt.Errorf("key %q already exists on token %q: not replaced", c.keyName(), c.tokenName())
		}
	}
	if len(c.uri.ID) == 0 {
		c.uri.ID = make([]byte, 16)
		if _, err := rand.Read(c.uri.ID); err != nil {
			return nil, nil, err
		}
	}
	label := []byte(c.uri.Object)
	var key crypto11.Signer
	switch name := fromSigstoreAlgorithmName(strings.ToLower(strings.TrimSpace(alg))); name {
	case "", "ecdsa-p256":
		key, err = p11.GenerateECDSAKeyPairWithLabel(c.uri.ID, label, elliptic.P256())
	case "ecdsa-p384":
		key, err = p11.GenerateECDSAKeyPairWithLabel(c.uri.ID, label, elliptic.P384())
	case "ecdsa-p521":
		key, err = p11.GenerateECDSAKeyPairWithLabel(c.uri.ID, label, elliptic.P521())
	case "rsa-2048", "rsa-3072", "rsa-4096":
		bits := map[string]int{"rsa-2048": 2048, "rsa-3072": 3072, "rsa-4096": 4096}[name]
		key, err = p11.GenerateRSAKeyPairWithLabel(c.uri.ID, label, bits)
	default:
		return nil, nil, fmt.Errorf("%w: key algorithm %q on a PKCS#11 token (ecdsa-p256, ecdsa-p384, ecdsa-p521, rsa-2048, rsa-3072, rsa-4096)",
			ErrUnsupportedKey, alg)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("generating key %q on token %q: %w", c.keyName(), c.tokenName(), err)
	}
	out := *c.uri
	out.PIN = ""
	return key.Public(), &out, nil
}
