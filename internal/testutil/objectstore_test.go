package testutil

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
)

// TestObjectStoreSemantics checks the S3 behaviour Tessera's AWS driver relies on: a PUT with
// If-None-Match: * fails with PreconditionFailed on an existing key and leaves it unchanged,
// ListObjectsV2 lists by prefix, DeleteObjects removes what it names.
func TestObjectStoreSemantics(t *testing.T) {
	o := StartObjectStore(t)
	ctx := context.Background()
	c := o.Client()
	put := func(key, body string) error {
		_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(o.Bucket), Key: aws.String(key),
			Body: bytes.NewReader([]byte(body)), IfNoneMatch: aws.String("*")})
		return err
	}
	if err := put("tile/0/000.p/1", "first"); err != nil {
		t.Fatalf("first conditional PUT: %v", err)
	}
	err := put("tile/0/000.p/1", "second")
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "PreconditionFailed" {
		t.Fatalf("second conditional PUT: got %v, want PreconditionFailed", err)
	}
	got, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(o.Bucket), Key: aws.String("tile/0/000.p/1")})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	_, _ = b.ReadFrom(got.Body)
	got.Body.Close()
	if b.String() != "first" {
		t.Fatalf("object after a refused PUT holds %q, want %q", b.String(), "first")
	}
	if err := put("tile/0/000.p/2", "x"); err != nil {
		t.Fatal(err)
	}
	if err := put("tile/1/000", "y"); err != nil {
		t.Fatal(err)
	}
	l, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(o.Bucket), Prefix: aws.String("tile/0/000.p/")})
	if err != nil {
		t.Fatalf("ListObjectsV2: %v", err)
	}
	if len(l.Contents) != 2 {
		t.Fatalf("ListObjectsV2 by prefix listed %d objects, want 2", len(l.Contents))
	}
	del := &types.Delete{}
	for _, k := range l.Contents {
		del.Objects = append(del.Objects, types.ObjectIdentifier{Key: k.Key})
	}
	if _, err := c.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String(o.Bucket), Delete: del}); err != nil {
		t.Fatalf("DeleteObjects: %v", err)
	}
	l, err = c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(o.Bucket), Prefix: aws.String("tile/")})
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Contents) != 1 || aws.ToString(l.Contents[0].Key) != "tile/1/000" {
		t.Fatalf("after DeleteObjects the bucket lists %d objects, want only tile/1/000", len(l.Contents))
	}
}
