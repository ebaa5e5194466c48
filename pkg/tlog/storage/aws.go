package storage

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/go-sql-driver/mysql"
	"github.com/transparency-dev/tessera"
	"github.com/transparency-dev/tessera/api/layout"
	taws "github.com/transparency-dev/tessera/storage/aws"
	antispam "github.com/transparency-dev/tessera/storage/aws/antispam"
)

// AWSScheme prefixes the storage spec of Tessera's AWS driver.
const AWSScheme = "aws://"

// AWSSpec is a parsed aws:// storage spec:
//
//	aws://?db=<MySQL DSN, URL-escaped>&bucket=B[&prefix=P][&endpoint=URL][&region=R][&path-style=true]
//
// Credentials come the AWS SDK's usual way (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE,
// ~/.aws/config and credentials, instance roles); region from region=, else the SDK's
// (AWS_REGION, the profile).
type AWSSpec struct {
	DSN       string // go-sql-driver DSN, user:pw@tcp(host:port)/db
	Bucket    string
	Prefix    string
	Endpoint  string // S3 endpoint URL; empty for AWS's own
	Region    string
	PathStyle bool
}

// ParseAWS parses an aws:// storage spec, naming in its errors what is wrong.
func ParseAWS(spec string) (AWSSpec, error) {
	rest, ok := strings.CutPrefix(spec, AWSScheme)
	if !ok {
		return AWSSpec{}, fmt.Errorf("storage %q does not start with %s", spec, AWSScheme)
	}
	rest = strings.TrimPrefix(rest, "/")
	if !strings.HasPrefix(rest, "?") {
		return AWSSpec{}, fmt.Errorf("storage %q: want %s?db=...&bucket=...", spec, AWSScheme)
	}
	q, err := url.ParseQuery(rest[1:])
	if err != nil {
		return AWSSpec{}, fmt.Errorf("storage %q: %w", spec, err)
	}
	known := map[string]bool{"db": true, "bucket": true, "prefix": true, "endpoint": true, "region": true, "path-style": true}
	for k := range q {
		if !known[k] {
			return AWSSpec{}, fmt.Errorf("storage %q: unknown parameter %q (want db, bucket, prefix, endpoint, region, path-style)", spec, k)
		}
	}
	s := AWSSpec{DSN: q.Get("db"), Bucket: q.Get("bucket"), Prefix: q.Get("prefix"),
		Endpoint: q.Get("endpoint"), Region: q.Get("region")}
	if s.DSN == "" || s.Bucket == "" {
		return AWSSpec{}, fmt.Errorf("storage %q: db= (a MySQL DSN) and bucket= are required", spec)
	}
	if _, err := mysql.ParseDSN(s.DSN); err != nil {
		return AWSSpec{}, fmt.Errorf("storage %q: db=: %w", spec, err)
	}
	if s.Endpoint != "" {
		if u, err := url.Parse(s.Endpoint); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return AWSSpec{}, fmt.Errorf("storage %q: endpoint= must be an http(s) URL, got %q", spec, s.Endpoint)
		}
	}
	if v := q.Get("path-style"); v != "" {
		if s.PathStyle, err = strconv.ParseBool(v); err != nil {
			return AWSSpec{}, fmt.Errorf("storage %q: path-style=: %w", spec, err)
		}
	}
	return s, nil
}

// String is the aws:// storage spec of s.
func (s AWSSpec) String() string {
	q := url.Values{"db": {s.DSN}, "bucket": {s.Bucket}}
	if s.Prefix != "" {
		q.Set("prefix", s.Prefix)
	}
	if s.Endpoint != "" {
		q.Set("endpoint", s.Endpoint)
	}
	if s.Region != "" {
		q.Set("region", s.Region)
	}
	if s.PathStyle {
		q.Set("path-style", "true")
	}
	return AWSScheme + "?" + q.Encode()
}

// loadAWS parses spec and loads the S3 client configuration it names.
func loadAWS(ctx context.Context, spec string) (AWSSpec, aws.Config, func(*s3.Options), error) {
	s, err := ParseAWS(spec)
	if err != nil {
		return AWSSpec{}, aws.Config{}, nil, err
	}
	cfg, opts, err := s.s3Config(ctx)
	return s, cfg, opts, err
}

// s3Config is the S3 client configuration of the spec: the SDK's default configuration (credentials,
// region), with the endpoint and addressing the spec names, checksums only where the operation
// requires them (S3-compatible servers reject the SDK's default trailing checksums), and
// requests bounded so that an unreachable store fails a write instead of hanging it.
func (s AWSSpec) s3Config(ctx context.Context) (aws.Config, func(*s3.Options), error) {
	var loads []func(*config.LoadOptions) error
	if s.Region != "" {
		loads = append(loads, config.WithRegion(s.Region))
	}
	loads = append(loads, config.WithHTTPClient(awshttp.NewBuildableClient().WithTimeout(30*time.Second)))
	cfg, err := config.LoadDefaultConfig(ctx, loads...)
	if err != nil {
		return aws.Config{}, nil, fmt.Errorf("loading AWS configuration: %w", err)
	}
	cfg.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
	cfg.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
	opts := func(o *s3.Options) {
		if s.Endpoint != "" {
			o.BaseEndpoint = aws.String(s.Endpoint)
		}
		o.UsePathStyle = s.PathStyle
		o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
		o.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
	}
	return cfg, opts, nil
}

// AWS is Tessera's AWS driver with what a server adds around it: the MySQL antispam index
// shared by every front-end, and reads straight from the bucket.
type AWS struct {
	*taws.Storage
	antispam *antispam.AntispamStorage
	// Objects reads the log's published objects from its bucket.
	Objects *S3Objects
}

// OpenAWS opens Tessera's AWS driver and the shared antispam index on the spec.
func OpenAWS(ctx context.Context, spec string) (*AWS, error) {
	s, cfg, s3opts, err := loadAWS(ctx, spec)
	if err != nil {
		return nil, err
	}
	mc, _ := mysql.ParseDSN(s.DSN)
	d, err := taws.New(ctx, taws.Config{SDKConfig: &cfg, S3Options: s3opts, Bucket: s.Bucket,
		BucketPrefix: s.Prefix, DSN: s.DSN, MaxOpenConns: 32, MaxIdleConns: 32})
	if err != nil {
		return nil, fmt.Errorf("opening AWS storage (bucket %s, database at %s): %w", s.Bucket, mc.Addr, err)
	}
	as, err := antispam.NewAntispam(ctx, s.DSN, antispam.AntispamOpts{MaxOpenConns: 8, MaxIdleConns: 8})
	if err != nil {
		return nil, fmt.Errorf("opening the antispam index in the database at %s: %w", mc.Addr, err)
	}
	return &AWS{Storage: d.(*taws.Storage), antispam: as,
		Objects: &S3Objects{client: s3.NewFromConfig(cfg, s3opts), bucket: s.Bucket, prefix: s.Prefix}}, nil
}

// Antispam is the antispam index every front-end on the database shares.
func (d *AWS) Antispam() tessera.Antispam { return d.antispam }

// SharedAntispam is the antispam index that the front-ends on driver share (an AWS driver's),
// or nil for a driver one process alone writes.
func SharedAntispam(driver tessera.Driver) tessera.Antispam {
	if d, ok := driver.(interface{ Antispam() tessera.Antispam }); ok {
		return d.Antispam()
	}
	return nil
}

// WrapReader is r reading checkpoints, tiles and bundles from the bucket instead.
func (d *AWS) WrapReader(r tessera.LogReader) tessera.LogReader {
	return s3Reader{LogReader: r, objects: d.Objects}
}

// s3Reader reads checkpoints, tiles and bundles from the bucket, answering os.ErrNotExist for a
// missing object (Tessera's reader loses that for tiles), and sizes from the sequencer.
type s3Reader struct {
	tessera.LogReader
	objects *S3Objects
}

func (r s3Reader) ReadCheckpoint(ctx context.Context) ([]byte, error) {
	return r.objects.ReadCheckpoint(ctx)
}

func (r s3Reader) ReadTile(ctx context.Context, l, i uint64, p uint8) ([]byte, error) {
	return r.objects.ReadTile(ctx, l, i, p)
}

func (r s3Reader) ReadEntryBundle(ctx context.Context, i uint64, p uint8) ([]byte, error) {
	return r.objects.ReadEntryBundle(ctx, i, p)
}

// S3Objects reads a log's published objects from its bucket.
type S3Objects struct {
	client *s3.Client
	bucket string
	prefix string
}

// OpenS3Objects opens the bucket of an aws:// spec for reading.
func OpenS3Objects(ctx context.Context, spec string) (*S3Objects, error) {
	s, cfg, s3opts, err := loadAWS(ctx, spec)
	if err != nil {
		return nil, err
	}
	return &S3Objects{client: s3.NewFromConfig(cfg, s3opts), bucket: s.Bucket, prefix: s.Prefix}, nil
}

// Get returns the object at name, or an error wrapping os.ErrNotExist when there is none.
func (o *S3Objects) Get(ctx context.Context, name string) ([]byte, error) {
	key := name
	if o.prefix != "" {
		key = path.Join(o.prefix, name)
	}
	out, err := o.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(o.bucket), Key: aws.String(key)})
	if err != nil {
		var re *awshttp.ResponseError
		if errors.As(err, &re) && re.HTTPStatusCode() == http.StatusNotFound {
			return nil, fmt.Errorf("object %s in bucket %s: %w", key, o.bucket, os.ErrNotExist)
		}
		return nil, fmt.Errorf("reading object %s in bucket %s: %w", key, o.bucket, err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	if err != nil {
		return nil, fmt.Errorf("reading object %s in bucket %s: %w", key, o.bucket, err)
	}
	return b, nil
}

func (o *S3Objects) ReadCheckpoint(ctx context.Context) ([]byte, error) {
	return o.Get(ctx, layout.CheckpointPath)
}

func (o *S3Objects) ReadTile(ctx context.Context, l, i uint64, p uint8) ([]byte, error) {
	return o.Get(ctx, layout.TilePath(l, i, p))
}

func (o *S3Objects) ReadEntryBundle(ctx context.Context, i uint64, p uint8) ([]byte, error) {
	return o.Get(ctx, layout.EntriesPath(i, p))
}

// Open makes the bucket an http.FileSystem of the log's published objects (checkpoint,
// tile/...), so that http.FileServer serves them as it serves a POSIX log's files: a missing
// object is a 404, a failure to read one a 500.
func (o *S3Objects) Open(name string) (http.File, error) {
	name = strings.TrimPrefix(path.Clean("/"+name), "/")
	if name == "" {
		return nil, fs.ErrNotExist // no listings
	}
	b, err := o.Get(context.Background(), name)
	if err != nil {
		return nil, err
	}
	return &object{Reader: bytes.NewReader(b), name: path.Base(name), size: int64(len(b))}, nil
}

// object is one object read from the bucket, as an http.File.
type object struct {
	*bytes.Reader
	name string
	size int64
}

func (f *object) Close() error                       { return nil }
func (f *object) Readdir(int) ([]fs.FileInfo, error) { return nil, fs.ErrInvalid }
func (f *object) Stat() (fs.FileInfo, error)         { return f, nil }
func (f *object) Name() string                       { return f.name }
func (f *object) Size() int64                        { return f.size }
func (f *object) Mode() fs.FileMode                  { return 0o444 }
func (f *object) ModTime() time.Time                 { return time.Time{} }
func (f *object) IsDir() bool                        { return false }
func (f *object) Sys() any                           { return nil }
