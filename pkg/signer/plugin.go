package signer

import (
	"bytes"
	"context"
	"crypto"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"time"

	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"

	"github.com/cosign-like/cosign-like/pkg/signer/kmsplugin"
)

// ErrPlugin is wrapped by every failure of a KMS plugin program: not found, timed out, exited
// with an error, or answered something that is not a valid response.
var ErrPlugin = errors.New("KMS plugin failed")

// Limits on what a plugin may print.
const (
	maxPluginStdout = 1 << 20
	maxPluginStderr = 16 << 10
)

// pluginClient runs the plugin program of one key reference.
type pluginClient struct {
	name    string // provider name, e.g. "awskms"
	path    string // resolved executable
	keyID   string // key reference after "<name>://"
	timeout time.Duration
}

func newPluginClient(keyRef string, o *loadOptions) (*pluginClient, error) {
	name, keyID, ok := strings.Cut(keyRef, "://")
	if !ok || name == "" {
		return nil, fmt.Errorf("KMS key reference %q: want <provider>://<key>", keyRef)
	}
	exe := kmsplugin.ExecutablePrefix + name
	path, err := exec.LookPath(exe)
	if err != nil {
		return nil, fmt.Errorf("%w: no provider for %s:// keys: %s not found on PATH: %w", ErrPlugin, name, exe, err)
	}
	return &pluginClient{name: name, path: path, keyID: keyID, timeout: o.pluginTimeout}, nil
}

// limitedBuffer keeps at most max bytes and remembers that more were written.
type limitedBuffer struct {
	buf       bytes.Buffer
	max       int
	truncated bool
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if room := b.max - b.buf.Len(); room < len(p) {
		b.truncated = true
		if room > 0 {
			b.buf.Write(p[:room])
		}
		return len(p), nil
	}
	return b.buf.Write(p)
}

// call runs the plugin once and returns its parsed response.
func (c *pluginClient) call(ctx context.Context, hash crypto.Hash, args kmsplugin.MethodArgs, stdin []byte) (*kmsplugin.Response, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	initOpts := &kmsplugin.InitOptions{
		ProtocolVersion: kmsplugin.ProtocolVersion,
		KeyResourceID:   c.keyID,
		HashFunc:        hash,
		RPCOptions:      &kmsplugin.RPCOptions{},
	}
	if d, ok := ctx.Deadline(); ok {
		initOpts.CtxDeadline = &d
		initOpts.RPCOptions.CtxDeadline = &d
	}
	reqJSON, err := json.Marshal(kmsplugin.Request{InitOptions: initOpts, MethodArgs: args})
	if err != nil {
		return nil, fmt.Errorf("encoding plugin request: %w", err)
	}
	cmd := exec.CommandContext(ctx, c.path, kmsplugin.ProtocolVersion, string(reqJSON))
	cmd.Stdin = bytes.NewReader(stdin)
	stdout := &limitedBuffer{max: maxPluginStdout}
	stderr := &limitedBuffer{max: maxPluginStderr}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	// A plugin whose children keep the pipes open must not hold us past the deadline.
	cmd.WaitDelay = 2 * time.Second
	runErr := cmd.Run()
	where := fmt.Sprintf("%s (%s %s)", c.path, args.MethodName, c.name+"://"+c.keyID)
	if ctx.Err() != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return nil, fmt.Errorf("%w: %s did not answer within %s", ErrPlugin, where, c.timeout)
		}
		return nil, fmt.Errorf("%w: %s: %w", ErrPlugin, where, ctx.Err())
	}
	var exitErr *exec.ExitError
	if runErr != nil && !errors.As(runErr, &exitErr) {
		return nil, fmt.Errorf("%w: running %s: %w", ErrPlugin, where, runErr)
	}
	exitCode := 0
	if exitErr != nil {
		exitCode = exitErr.ExitCode()
	}
	return parsePluginOutput(where, stdout.buf.Bytes(), stdout.truncated, exitCode, stderr.buf.String())
}

// parsePluginOutput interprets what a plugin run left: its stdout (and whether it was cut at
// maxPluginStdout), exit status and stderr. An errorMessage wins; a non-zero exit without one
// is a failure even if stdout parses, so a crashed plugin never counts as a success.
func parsePluginOutput(where string, stdout []byte, truncated bool, exitCode int, stderr string) (*kmsplugin.Response, error) {
	if truncated {
		return nil, fmt.Errorf("%w: %s printed more than %d bytes", ErrPlugin, where, maxPluginStdout)
	}
	var resp kmsplugin.Response
	if err := json.Unmarshal(stdout, &resp); err != nil {
		if exitCode != 0 {
			return nil, fmt.Errorf("%w: %s exited with status %d%s", ErrPlugin, where, exitCode, stderrTail(stderr))
		}
		return nil, fmt.Errorf("%w: %s printed a response that is not JSON: %w%s", ErrPlugin, where, err, stderrTail(stderr))
	}
	if resp.ErrorMessage != "" {
		return nil, fmt.Errorf("%w: %s: %s", ErrPlugin, where, truncate(resp.ErrorMessage, 2048))
	}
	if exitCode != 0 {
		return nil, fmt.Errorf("%w: %s exited with status %d%s", ErrPlugin, where, exitCode, stderrTail(stderr))
	}
	return &resp, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

func stderrTail(stderr string) string {
	s := strings.TrimSpace(stderr)
	if s == "" {
		return ""
	}
	if len(s) > 512 {
		s = "..." + s[len(s)-512:]
	}
	return " (stderr: " + s + ")"
}

// publicKey asks the plugin for the key's public key.
func (c *pluginClient) publicKey(ctx context.Context) (crypto.PublicKey, error) {
	resp, err := c.call(ctx, crypto.SHA256, kmsplugin.MethodArgs{
		MethodName: kmsplugin.MethodPublicKey,
		PublicKey:  &kmsplugin.PublicKeyArgs{PublicKeyOptions: &kmsplugin.PublicKeyOptions{}},
	}, nil)
	if err != nil {
		return nil, err
	}
	if resp.PublicKey == nil {
		return nil, fmt.Errorf("%w: %s answered publicKey without a public key", ErrPlugin, c.path)
	}
	pub, err := ParsePublicKeyPEM(resp.PublicKey.PublicKeyPEM)
	if err != nil {
		return nil, fmt.Errorf("%w: public key from %s: %w", ErrPlugin, c.path, err)
	}
	return pub, nil
}

// pluginSigner signs through a KMS plugin program, one run per signature.
type pluginSigner struct {
	client *pluginClient
	pub    crypto.PublicKey
	alg    protocommon.PublicKeyDetails
	hash   crypto.Hash
}

func loadPluginSigner(ctx context.Context, keyRef string, o *loadOptions) (Signer, error) {
	c, err := newPluginClient(keyRef, o)
	if err != nil {
		return nil, err
	}
	pub, err := c.publicKey(ctx)
	if err != nil {
		return nil, err
	}
	alg, hash, err := AlgorithmFor(pub)
	if err != nil {
		return nil, fmt.Errorf("key %s: %w", keyRef, err)
	}
	return &pluginSigner{client: c, pub: pub, alg: alg, hash: hash}, nil
}

func (s *pluginSigner) Public() crypto.PublicKey                { return s.pub }
func (s *pluginSigner) Algorithm() protocommon.PublicKeyDetails { return s.alg }
func (s *pluginSigner) HashFunc() crypto.Hash                   { return s.hash }

// SignDigest has the plugin sign the digest and checks the signature against the public key
// before returning it, so that a misbehaving plugin cannot hand out a bad signature.
func (s *pluginSigner) SignDigest(ctx context.Context, digest []byte) ([]byte, error) {
	if err := checkDigest(s.hash, digest); err != nil {
		return nil, err
	}
	d := append([]byte(nil), digest...)
	h := s.hash
	resp, err := s.client.call(ctx, s.hash, kmsplugin.MethodArgs{
		MethodName: kmsplugin.MethodSignMessage,
		SignMessage: &kmsplugin.SignMessageArgs{SignOptions: &kmsplugin.SignOptions{
			MessageOptions: kmsplugin.MessageOptions{Digest: &d, HashFunc: &h},
		}},
	}, nil)
	if err != nil {
		return nil, err
	}
	if resp.SignMessage == nil || len(resp.SignMessage.Signature) == 0 {
		return nil, fmt.Errorf("%w: %s answered signMessage without a signature", ErrPlugin, s.client.path)
	}
	sig := resp.SignMessage.Signature
	if err := VerifyDigest(s.pub, digest, sig); err != nil {
		return nil, fmt.Errorf("%w: %s returned a signature that does not verify with its public key: %w", ErrPlugin, s.client.path, err)
	}
	return sig, nil
}

// createPluginKey asks the plugin to create its key; an empty alg means the plugin's default.
func createPluginKey(ctx context.Context, keyRef, alg string, o *loadOptions) (crypto.PublicKey, error) {
	c, err := newPluginClient(keyRef, o)
	if err != nil {
		return nil, err
	}
	if alg == "" {
		resp, err := c.call(ctx, crypto.SHA256, kmsplugin.MethodArgs{
			MethodName:       kmsplugin.MethodDefaultAlgorithm,
			DefaultAlgorithm: &kmsplugin.DefaultAlgorithmArgs{},
		}, nil)
		if err != nil {
			return nil, err
		}
		if resp.DefaultAlgorithm == nil || resp.DefaultAlgorithm.DefaultAlgorithm == "" {
			return nil, fmt.Errorf("%w: %s named no default algorithm", ErrPlugin, c.path)
		}
		alg = resp.DefaultAlgorithm.DefaultAlgorithm
	}
	args := &kmsplugin.CreateKeyArgs{Algorithm: alg}
	if d, ok := ctx.Deadline(); ok {
		args.CtxDeadline = &d
	}
	resp, err := c.call(ctx, crypto.SHA256, kmsplugin.MethodArgs{MethodName: kmsplugin.MethodCreateKey, CreateKey: args}, nil)
	if err != nil {
		return nil, err
	}
	if resp.CreateKey == nil {
		return nil, fmt.Errorf("%w: %s answered createKey without a public key", ErrPlugin, c.path)
	}
	pub, err := ParsePublicKeyPEM(resp.CreateKey.PublicKeyPEM)
	if err != nil {
		return nil, fmt.Errorf("%w: public key from %s: %w", ErrPlugin, c.path, err)
	}
	return pub, nil
}
