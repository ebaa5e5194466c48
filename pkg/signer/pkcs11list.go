package signer

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/ThalesGroup/crypto11"
	"github.com/miekg/pkcs11"
)

// PKCS11Token describes a token of a PKCS#11 module.
type PKCS11Token struct {
	Slot         uint
	Label        string
	Manufacturer string
	Model        string
	Serial       string
}

// ListPKCS11Tokens lists the tokens present in the slots of a PKCS#11 module.
func ListPKCS11Tokens(ctx context.Context, modulePath string) ([]PKCS11Token, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := checkModulePath(modulePath); err != nil {
		return nil, err
	}
	r := pkcs11Sessions
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.listTokensLocked(modulePath)
}

// listTokensLocked reads the slot list with a module handle of its own. If crypto11 has the
// module initialised already, the module is shared and left initialised; otherwise it is
// finalised again. Callers hold r.mu, which also serialises crypto11.Configure.
func (r *pkcs11Registry) listTokensLocked(modulePath string) ([]PKCS11Token, error) {
	m := pkcs11.New(modulePath)
	if m == nil {
		return nil, fmt.Errorf("loading PKCS#11 module %s failed", modulePath)
	}
	defer m.Destroy()
	finalize := true
	if err := m.Initialize(); err != nil {
		if !errors.Is(err, pkcs11.Error(pkcs11.CKR_CRYPTOKI_ALREADY_INITIALIZED)) {
			return nil, fmt.Errorf("initialising PKCS#11 module %s: %w", modulePath, err)
		}
		finalize = false
	}
	if finalize {
		defer m.Finalize()
	}
	slots, err := m.GetSlotList(true)
	if err != nil {
		return nil, fmt.Errorf("listing slots of %s: %w", modulePath, err)
	}
	var tokens []PKCS11Token
	for _, s := range slots {
		ti, err := m.GetTokenInfo(s)
		if err != nil {
			return nil, fmt.Errorf("reading token in slot %d: %w", s, err)
		}
		tokens = append(tokens, PKCS11Token{
			Slot: s, Label: strings.TrimSpace(ti.Label), Manufacturer: strings.TrimSpace(ti.ManufacturerID),
			Model: strings.TrimSpace(ti.Model), Serial: strings.TrimSpace(ti.SerialNumber),
		})
	}
	return tokens, nil
}

// PKCS11Key describes a key pair on a token.
type PKCS11Key struct {
	Label string
	ID    []byte
	// URI names the key (with module-path, without the PIN).
	URI *PKCS11URI
}

// ListPKCS11Keys lists the key pairs on the token tokenRef names: a "pkcs11:" URI naming a token
// (object and id may be left out) whose module path and PIN come as for LoadSigner.
func ListPKCS11Keys(ctx context.Context, tokenRef string, opts ...Option) ([]PKCS11Key, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	o := applyOptions(opts)
	c, err := resolvePKCS11(tokenRef, o, false)
	if err != nil {
		return nil, err
	}
	p11, err := pkcs11Sessions.openToken(c)
	if err != nil {
		return nil, err
	}
	pairs, err := p11.FindAllKeyPairs()
	if err != nil {
		return nil, fmt.Errorf("listing keys on token %q: %w", c.tokenName(), err)
	}
	token := c.uri.Token
	if token == "" && c.uri.SlotID != nil {
		// Name the token by its label in the URIs: slot numbers can change between runs.
		tokens, err := ListPKCS11Tokens(ctx, c.uri.ModulePath)
		if err != nil {
			return nil, err
		}
		for _, t := range tokens {
			if t.Slot == uint(*c.uri.SlotID) {
				token = t.Label
			}
		}
	}
	var keys []PKCS11Key
	for _, k := range pairs {
		attrs, err := p11.GetAttributes(k, []crypto11.AttributeType{crypto11.CkaLabel, crypto11.CkaId})
		if err != nil {
			return nil, fmt.Errorf("reading key attributes on token %q: %w", c.tokenName(), err)
		}
		var key PKCS11Key
		if a := attrs[crypto11.CkaLabel]; a != nil {
			key.Label = string(a.Value)
		}
		if a := attrs[crypto11.CkaId]; a != nil {
			key.ID = append([]byte(nil), a.Value...)
		}
		key.URI = &PKCS11URI{Token: token, SlotID: c.uri.SlotID, Serial: c.uri.Serial,
			Object: key.Label, ID: key.ID, ModulePath: c.uri.ModulePath}
		keys = append(keys, key)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].Label < keys[j].Label })
	return keys, nil
}
