package signer

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// PKCS11URI is an RFC 7512 PKCS#11 URI naming a key on a token, in the form cosign accepts:
//
//	pkcs11:token=signing;object=release?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-value=1234
//
// Path attributes: token (label), slot-id, serial (token serial number), object (key label), id
// (CKA_ID, percent-encoded bytes), type (only "private"). Query attributes: module-path and
// pin-value. Other attributes are refused rather than ignored, so that a URI never selects a key
// more loosely than it reads.
type PKCS11URI struct {
	Token      string
	SlotID     *int
	Serial     string
	Object     string
	ID         []byte
	ModulePath string
	PIN        string
}

// maxPKCS11URILength bounds the URIs ParsePKCS11URI reads.
const maxPKCS11URILength = 4096

// ParsePKCS11URI parses a "pkcs11:" URI. The token must be named (token, slot-id or serial) and
// so must the key (object or id); module-path and pin-value may come from elsewhere.
func ParsePKCS11URI(s string) (*PKCS11URI, error) { return parsePKCS11URI(s, true) }

// parsePKCS11URI parses a URI; needKey says whether it must name a key (not only a token).
func parsePKCS11URI(s string, needKey bool) (*PKCS11URI, error) {
	if len(s) > maxPKCS11URILength {
		return nil, fmt.Errorf("PKCS#11 URI of %d bytes is too long", len(s))
	}
	if !strings.HasPrefix(s, "pkcs11:") {
		return nil, fmt.Errorf("PKCS#11 URI %q: must start with \"pkcs11:\"", s)
	}
	rest := strings.TrimPrefix(s, "pkcs11:")
	pathPart, queryPart, _ := strings.Cut(rest, "?")
	if strings.Contains(pathPart, "#") || strings.Contains(queryPart, "#") {
		return nil, errors.New("PKCS#11 URI: fragments are not allowed")
	}
	pathAttrs, err := parsePKCS11Attributes(pathPart, ";")
	if err != nil {
		return nil, fmt.Errorf("PKCS#11 URI path: %w", err)
	}
	queryAttrs, err := parsePKCS11Attributes(queryPart, "&")
	if err != nil {
		return nil, fmt.Errorf("PKCS#11 URI query: %w", err)
	}
	u := &PKCS11URI{}
	for name, value := range pathAttrs {
		switch name {
		case "token":
			u.Token = value
		case "object":
			u.Object = value
		case "id":
			u.ID = []byte(value)
		case "serial":
			u.Serial = value
		case "slot-id":
			n, err := strconv.Atoi(value)
			if err != nil || n < 0 {
				return nil, fmt.Errorf("PKCS#11 URI: slot-id %q is not a number", value)
			}
			u.SlotID = &n
		case "type":
			if value != "private" {
				return nil, fmt.Errorf("PKCS#11 URI: type=%s: only private keys can be used", value)
			}
		default:
			return nil, fmt.Errorf("PKCS#11 URI: attribute %q is not supported (token, slot-id, serial, object, id, type)", name)
		}
	}
	for name, value := range queryAttrs {
		switch name {
		case "module-path":
			u.ModulePath = value
		case "pin-value":
			u.PIN = value
		default:
			return nil, fmt.Errorf("PKCS#11 URI: query attribute %q is not supported (module-path, pin-value)", name)
		}
	}
	if u.Token == "" && u.SlotID == nil && u.Serial == "" {
		return nil, errors.New("PKCS#11 URI: name the token with token=, slot-id= or serial=")
	}
	if needKey && u.Object == "" && len(u.ID) == 0 {
		return nil, errors.New("PKCS#11 URI: name the key with object= or id=")
	}
	return u, nil
}

// parsePKCS11Attributes splits "a=1;b=2" (or "&"-separated) into percent-decoded attributes,
// refusing an attribute given twice.
func parsePKCS11Attributes(s, sep string) (map[string]string, error) {
	attrs := map[string]string{}
	if s == "" {
		return attrs, nil
	}
	for _, part := range strings.Split(s, sep) {
		if part == "" {
			continue
		}
		rawName, rawValue, ok := strings.Cut(part, "=")
		if !ok {
			return nil, fmt.Errorf("attribute %q has no value", part)
		}
		name, err := url.PathUnescape(rawName)
		if err != nil {
			return nil, fmt.Errorf("attribute name %q: %w", rawName, err)
		}
		value, err := url.PathUnescape(rawValue)
		if err != nil {
			return nil, fmt.Errorf("attribute %s: %w", name, err)
		}
		if _, dup := attrs[name]; dup {
			return nil, fmt.Errorf("attribute %q given twice", name)
		}
		attrs[name] = value
	}
	return attrs, nil
}

// String formats the URI without its PIN, so that printing a URI never leaks the PIN.
func (u *PKCS11URI) String() string { return u.format(false) }

// WithPIN formats the URI including pin-value when the PIN is set.
func (u *PKCS11URI) WithPIN() string { return u.format(true) }

func (u *PKCS11URI) format(withPIN bool) string {
	var path []string
	if u.Token != "" {
		path = append(path, "token="+pkcs11Escape(u.Token))
	}
	if u.SlotID != nil {
		path = append(path, "slot-id="+strconv.Itoa(*u.SlotID))
	}
	if u.Serial != "" {
		path = append(path, "serial="+pkcs11Escape(u.Serial))
	}
	if len(u.ID) > 0 {
		var b strings.Builder
		for _, c := range u.ID {
			fmt.Fprintf(&b, "%%%02x", c)
		}
		path = append(path, "id="+b.String())
	}
	if u.Object != "" {
		path = append(path, "object="+pkcs11Escape(u.Object))
	}
	s := "pkcs11:" + strings.Join(path, ";")
	var query []string
	if u.ModulePath != "" {
		query = append(query, "module-path="+pkcs11Escape(u.ModulePath))
	}
	if withPIN && u.PIN != "" {
		query = append(query, "pin-value="+pkcs11Escape(u.PIN))
	}
	if len(query) > 0 {
		s += "?" + strings.Join(query, "&")
	}
	return s
}

// pkcs11Escape percent-encodes everything but RFC 3986 unreserved characters and "/".
func pkcs11Escape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || ('0' <= c && c <= '9') ||
			c == '-' || c == '.' || c == '_' || c == '~' || c == '/' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}
