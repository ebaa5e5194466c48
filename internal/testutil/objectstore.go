package testutil

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// ObjectStore is an S3-compatible server (versitygw over a POSIX directory) run as a process on
// a loopback port, with one bucket. Stop and Start take it away and bring it back on the same
// port and data, for fault tests.
type ObjectStore struct {
	// Endpoint is http://127.0.0.1:<port>; Bucket the bucket made at start; Region, AccessKey
	// and SecretKey what clients sign with.
	Endpoint, Bucket, Region, AccessKey, SecretKey string

	bin, addr, root string
	tb              testing.TB
	proc            childProcess
}

// objectStoreVersion is the versitygw build scripts/peers.sh installs.
const objectStoreVersion = "github.com/versity/versitygw/cmd/versitygw@v1.8.0"

// PeerDir is where scripts/peers.sh builds peer programs: $COSIGN_LIKE_PEERS, else
// <user cache>/cosign-like/peers.
func PeerDir() string {
	if d := os.Getenv("COSIGN_LIKE_PEERS"); d != "" {
		return d
	}
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "cosign-like", "peers")
	}
	return filepath.Join(os.TempDir(), "cosign-like-peers")
}

// StartObjectStore starts versitygw (built by scripts/peers.sh) with a fresh directory and a
// bucket named "tlog", and stops it when the test ends. Without the binary the test is skipped,
// or fails when RequireAll; in -short mode it is skipped.
func StartObjectStore(tb testing.TB) *ObjectStore {
	tb.Helper()
	if testing.Short() {
		tb.Skip("-short: not starting the versitygw process")
	}
	bin := filepath.Join(PeerDir(), "versitygw")
	if _, err := os.Stat(bin); err != nil {
		if RequireAll() {
			tb.Fatalf("versitygw (%s) is missing: run scripts/peers.sh: %v", objectStoreVersion, err)
		}
		tb.Skipf("versitygw (%s) is missing: run scripts/peers.sh (set CI or COSIGN_LIKE_REQUIRE_ALL to make this fatal)", objectStoreVersion)
	}
	root := StorageDir(tb)
	o := &ObjectStore{Bucket: "tlog", Region: "us-east-1", AccessKey: "cosign-like-test", SecretKey: "cosign-like-test-secret",
		bin: bin, addr: FreeAddr(tb), root: root, tb: tb}
	o.Endpoint = "http://" + o.addr
	if err := o.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(o.Stop)
	_, err := o.Client().CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(o.Bucket)})
	if err != nil {
		tb.Fatalf("creating bucket %s: %v", o.Bucket, err)
	}
	return o
}

// Start starts the server on its address and data (again, after Stop), and waits until it
// accepts connections.
func (o *ObjectStore) Start() error {
	if o.proc.running() {
		return nil
	}
	cmd := exec.Command(o.bin, "--port", o.addr, "--access", o.AccessKey, "--secret", o.SecretKey,
		"--region", o.Region, "posix", filepath.Join(o.root, "data"))
	if err := os.MkdirAll(filepath.Join(o.root, "data"), 0o755); err != nil {
		return err
	}
	log, err := os.OpenFile(filepath.Join(o.root, "versitygw.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer log.Close()
	cmd.Stdout, cmd.Stderr = log, log
	if err := o.proc.start(cmd); err != nil {
		return fmt.Errorf("starting versitygw: %w", err)
	}
	return o.proc.awaitReady("versitygw", filepath.Join(o.root, "versitygw.log"), 20*time.Second, 50*time.Millisecond, dialable(o.addr))
}

// Stop stops the server (SIGTERM, then SIGKILL after 10 s); its data stays for Start.
func (o *ObjectStore) Stop() { o.proc.stop(10 * time.Second) }

// Kill SIGKILLs the server; its data stays for Start.
func (o *ObjectStore) Kill() { o.proc.kill() }

// Env is the AWS SDK environment under which clients reach this server with its credentials.
func (o *ObjectStore) Env() []string {
	return []string{"AWS_ACCESS_KEY_ID=" + o.AccessKey, "AWS_SECRET_ACCESS_KEY=" + o.SecretKey,
		"AWS_REGION=" + o.Region, "AWS_EC2_METADATA_DISABLED=true"}
}

// SetEnv sets Env in this process for the rest of the test.
func (o *ObjectStore) SetEnv(t testing.TB) {
	t.Helper()
	for _, kv := range o.Env() {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
}

// Client is an S3 client for this server, path-style, with checksums only where required.
func (o *ObjectStore) Client() *s3.Client {
	return s3.New(s3.Options{
		Region:                     o.Region,
		BaseEndpoint:               aws.String(o.Endpoint),
		UsePathStyle:               true,
		Credentials:                aws.CredentialsProviderFunc(o.credentials),
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
	})
}

func (o *ObjectStore) credentials(context.Context) (aws.Credentials, error) {
	return aws.Credentials{AccessKeyID: o.AccessKey, SecretAccessKey: o.SecretKey}, nil
}
