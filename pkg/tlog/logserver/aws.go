package logserver

import (
	"context"
	"errors"
	"fmt"
	"io"
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

// awsScheme prefixes the storage spec of Tessera's AWS driver: MySQL/MariaDB sequencing and an
// S3-compatible object store for checkpoints, tiles and entry bundles.
const awsScheme = "aws://"

// awsSpec is a parsed aws:// storage spec:
//
//	aws://?db=<MySQL DSN, URL-escaped>&bucket=B[&prefix=P][&endpoint=URL][&region=R][&path-style=true]
//
// Credentials come the AWS SDK's usual way (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE,
// ~/.aws/config and credentials, instance roles); region from region=, else the SDK's
// (AWS_REGION, the profile).
type awsSpec struct {
	dsn       string // go-sql-driver DSN, user:pw@tcp(host:port)/db
	bucket    string
	prefix    string
	endpoint  string // S3 endpoint URL; empty for AWS's own
	region    string
	pathStyle bool
}

func parseAWSSpec(spec string) (awsSpec, error) {
	rest, ok := strings.CutPrefix(spec, awsScheme)
	if !ok {
		return awsSpec{}, fmt.Errorf("storage %q does not start with %s", spec, awsScheme)
	}
	rest = strings.TrimPrefix(rest, "/")
	if !strings.HasPrefix(rest, "?") {
		return awsSpec{}, fmt.Errorf("storage %q: want %s?db=...&bucket=...", spec, awsScheme)
	}
	q, err := url.ParseQuery(rest[1:])
	if err != nil {
		return awsSpec{}, fmt.Errorf("storage %q: %w", spec, err)
	}
	known := map[string]bool{"db": true, "bucket": true, "prefix": true, "endpoint": true, "region": true, "path-style": true}
	for k := range q {
		if !known[k] {
			return awsSpec{}, fmt.Errorf("storage %q: unknown parameter %q (want db, bucket, prefix, endpoint, region, path-style)", spec, k)
		}
	}
	s := awsSpec{dsn: q.Get("db"), bucket: q.Get("bucket"), prefix: q.Get("prefix"),
		endpoint: q.Get("endpoint"), region: q.Get("region")}
	if s.dsn == "" || s.bucket == "" {
		return awsSpec{}, fmt.Errorf("storage %q: db= (a MySQL DSN) and bucket= are required", spec)
	}
	if _, err := mysql.ParseDSN(s.dsn); err != nil {
		return awsSpec{}, fmt.Errorf("storage %q: db=: %w", spec, err)
	}
	if s.endpoint != "" {
		if u, err := url.Parse(s.endpoint); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return awsSpec{}, fmt.Errorf("storage %q: endpoint= must be an http(s) URL, got %q", spec, s.endpoint)
		}
	}
	if v := q.Get("path-style"); v != "" {
		if s.pathStyle, err = strconv.ParseBool(v); err != nil {
			return awsSpec{}, fmt.Errorf("storage %q: path-style=: %w", spec, err)
		}
	}
	return s, nil
}

// loadAWSSpec parses spec and loads the S3 client configuration it names.
func loadAWSSpec(ctx context.Context, spec string) (awsSpec, aws.Config, func(*s3.Options), error) {
	s, err := parseAWSSpec(spec)
	if err != nil {
		return awsSpec{}, aws.Config{}, nil, err
	}
	cfg, opts, err := s.s3Config(ctx)
	return s, cfg, opts, err
}

// s3Config is the S3 client configuration of the spec: the SDK's default configuration (credentials,
// region), with the endpoint and addressing the spec names, checksums only where the operation
// requires them (S3-compatible servers reject the SDK's default trailing checksums), and
// requests bounded so that an unreachable store fails a write instead of hanging it.
func (s awsSpec) s3Config(ctx context.Context) (aws.Config, func(*s3.Options), error) {
	var loads []func(*config.LoadOptions) error
	if s.region != "" {
		loads = append(loads, config.WithRegion(s.region))
	}
	loads = append(loads, config.WithHTTPClient(awshttp.NewBuildableClient().WithTimeout(30*time.Second)))
	cfg, err := config.LoadDefaultConfig(ctx, loads...)
	if err != nil {
		return aws.Config{}, nil, fmt.Errorf("loading AWS configuration: %w", err)
	}
	cfg.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
	cfg.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
	opts := func(o *s3.Options) {
		if s.endpoint != "" {
			o.BaseEndpoint = aws.String(s.endpoint)
		}
		o.UsePathStyle = s.pathStyle
		o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
		o.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
	}
	return cfg, opts, nil
}

// awsDriver is Tessera's AWS driver with what the server adds around it: the MySQL antispam
// index shared by every front-end, and reads straight from the bucket.
type awsDriver struct {
	*taws.Storage
	antispam *antispam.AntispamStorage
	objects  *s3Objects
}

// openAWS opens Tessera's AWS driver and the shared antispam index on the spec.
func openAWS(ctx context.Context, spec string) (*awsDriver, error) {
	s, cfg, s3opts, err := loadAWSSpec(ctx, spec)
	if err != nil {
		return nil, err
	}
	mc, _ := mysql.ParseDSN(s.dsn)
	d, err := taws.New(ctx, taws.Config{SDKConfig: &cfg, S3Options: s3opts, Bucket: s.bucket,
		BucketPrefix: s.prefix, DSN: s.dsn, MaxOpenConns: 32, MaxIdleConns: 32})
	if err != nil {
		return nil, fmt.Errorf("opening AWS storage (bucket %s, database at %s): %w", s.bucket, mc.Addr, err)
	}
	as, err := antispam.NewAntispam(ctx, s.dsn, antispam.AntispamOpts{MaxOpenConns: 8, MaxIdleConns: 8})
	if err != nil {
		return nil, fmt.Errorf("opening the antispam index in the database at %s: %w", mc.Addr, err)
	}
	return &awsDriver{Storage: d.(*taws.Storage), antispam: as,
		objects: &s3Objects{client: s3.NewFromConfig(cfg, s3opts), bucket: s.bucket, prefix: s.prefix}}, nil
}

// storageExtras is what a driver opened by openDriver may add to the appender and its reader.
type storageExtras interface {
	extraAntispam() tessera.Antispam
	wrapReader(tessera.LogReader) tessera.LogReader
}

func (d *awsDriver) extraAntispam() tessera.Antispam { return d.antispam }

func (d *awsDriver) wrapReader(r tessera.LogReader) tessera.LogReader {
	return s3Reader{LogReader: r, objects: d.objects}
}

// s3Reader reads checkpoints, tiles and bundles from the bucket, answering os.ErrNotExist for a
// missing object (Tessera's reader loses that for tiles), and sizes from the sequencer.
type s3Reader struct {
	tessera.LogReader
	objects *s3Objects
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

// s3Objects reads a log's published objects from its bucket (what fsck checks).
type s3Objects struct {
	client *s3.Client
	bucket string
	prefix string
}

// openS3Objects opens the bucket of an aws:// spec for reading.
func openS3Objects(ctx context.Context, spec string) (*s3Objects, error) {
	s, cfg, s3opts, err := loadAWSSpec(ctx, spec)
	if err != nil {
		return nil, err
	}
	return &s3Objects{client: s3.NewFromConfig(cfg, s3opts), bucket: s.bucket, prefix: s.prefix}, nil
}

// get returns the object at name, or an error wrapping os.ErrNotExist when there is none.
func (o *s3Objects) get(ctx context.Context, name string) ([]byte, error) {
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

func (o *s3Objects) ReadCheckpoint(ctx context.Context) ([]byte, error) {
	return o.get(ctx, layout.CheckpointPath)
}

func (o *s3Objects) ReadTile(ctx context.Context, l, i uint64, p uint8) ([]byte, error) {
	return o.get(ctx, layout.TilePath(l, i, p))
}

func (o *s3Objects) ReadEntryBundle(ctx context.Context, i uint64, p uint8) ([]byte, error) {
	return o.get(ctx, layout.EntriesPath(i, p))
}

// v1AWSSpec is the storage of the Rekor v1 tree beside the aws:// storage spec: the database
// <database>_v1 on the same server (create it first) and the key prefix <prefix>/v1 in the
// same bucket.
func v1AWSSpec(spec string) (string, error) {
	s, err := parseAWSSpec(spec)
	if err != nil {
		return "", err
	}
	mc, _ := mysql.ParseDSN(s.dsn)
	mc.DBName += "_v1"
	q := url.Values{"db": {mc.FormatDSN()}, "bucket": {s.bucket}, "prefix": {path.Join(s.prefix, "v1")}}
	if s.endpoint != "" {
		q.Set("endpoint", s.endpoint)
	}
	if s.region != "" {
		q.Set("region", s.region)
	}
	if s.pathStyle {
		q.Set("path-style", "true")
	}
	return awsScheme + "?" + q.Encode(), nil
}
