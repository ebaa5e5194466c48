package ca

import (
	"context"
	"errors"
	"strings"
	"testing"
)

// New refuses a CA it cannot run: no chain, no key, no issuer, no CT log.
func TestNewRefusesIncompleteConfig(t *testing.T) {
	ctx := context.Background()
	dir := writeCA(t)
	key, chain, err := LoadKey(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	issuers := []IssuerConfig{{URL: "https://issuer.example"}}
	for _, tc := range []struct {
		name string
		cfg  Config
		want string
	}{
		{"no chain", Config{Key: key, Options: Options{Issuers: issuers, CTURL: "http://ct.test"}}, "empty certificate chain"},
		{"no key", Config{Chain: chain, Options: Options{Issuers: issuers, CTURL: "http://ct.test"}}, "no key"},
		{"no issuer", Config{Key: key, Chain: chain, Options: Options{CTURL: "http://ct.test"}}, "no issuers configured"},
		{"no CT log", Config{Key: key, Chain: chain, Options: Options{Issuers: issuers}}, "CT log URL is required"},
	} {
		if _, err := New(ctx, tc.cfg); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
	if _, err := New(ctx, Config{Key: key, Chain: chain, Options: Options{CTURL: "http://ct.test"}}); !errors.Is(err, ErrConfig) {
		t.Errorf("no issuer: %v, want ErrConfig", err)
	}
	a, err := Open(ctx, dir, Options{Issuers: issuers, CTURL: "http://ct.test"})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Close(ctx); err != nil {
		t.Fatal(err)
	}
}
