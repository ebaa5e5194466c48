package admission

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/ed25519"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	prototrustroot "github.com/sigstore/protobuf-specs/gen/pb-go/trustroot/v1"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/cosign-like/cosign-like/internal/limitio"
	"github.com/cosign-like/cosign-like/pkg/admission/policy"
	"github.com/cosign-like/cosign-like/pkg/ca/pki"
	"github.com/cosign-like/cosign-like/pkg/root"
	"github.com/cosign-like/cosign-like/pkg/signer"
	"github.com/cosign-like/cosign-like/pkg/tlog"
	"github.com/cosign-like/cosign-like/pkg/tuf"
)

// Bounds on a serialized TUF repository (spec.repository.mirrorFS), once unpacked.
const (
	MaxMirrorFSSize  = 64 << 20
	MaxMirrorFSFiles = 10000
)

// serializedMirror is the mirror URL the TUF client is given for a serialized repository: its
// requests are answered from the unpacked files, and nothing is dialed.
const serializedMirror = "http://serialized-repository.invalid"

// FetchTrustRoots reads the trusted root of each TrustRoot document, keyed by the documents'
// names as trustRootRef names them, in a cache of its own per document under cacheDir:
//   - spec.remote: the TUF repository's metadata is verified from the document's initial
//     root.json (following root rotations) and the target trusted_root.json downloaded and
//     checked;
//   - spec.repository: the same, from the repository the document carries (its gzipped tar
//     unpacked under cacheDir), without any network;
//   - spec.sigstoreKeys: the certificate authorities, logs, CT logs and timestamp authorities
//     given, each trusted from the epoch on, as policy-controller trusts them; log IDs are
//     derived from the keys (the checkpoint key ID for an Ed25519 log, else the SHA-256 of the
//     key).
func FetchTrustRoots(ctx context.Context, trs []*policy.TrustRoot, cacheDir string) (map[string]*root.TrustedRoot, error) {
	out := make(map[string]*root.TrustedRoot, len(trs))
	for _, tr := range trs {
		data, err := trustedRootOf(ctx, tr, filepath.Join(cacheDir, tr.Metadata.Name))
		if err != nil {
			return nil, fmt.Errorf("%s: trust root %q: %w", tr.Source, tr.Metadata.Name, err)
		}
		if out[tr.Metadata.Name], err = root.ParseTrustedRoot(data); err != nil {
			return nil, fmt.Errorf("%s: trust root %q: %w", tr.Source, tr.Metadata.Name, err)
		}
	}
	return out, nil
}

// trustedRootOf returns the trusted root JSON of one document.
func trustedRootOf(ctx context.Context, tr *policy.TrustRoot, cacheDir string) ([]byte, error) {
	switch s := tr.Spec; {
	case s.Remote != nil:
		data, _, err := tuf.Initialize(ctx, tuf.InitOptions{Mirror: s.Remote.Mirror, Root: s.Remote.Root, CacheDir: cacheDir})
		if err != nil {
			return nil, fmt.Errorf("from %s: %w", s.Remote.Mirror, err)
		}
		return data, nil
	case s.Repository != nil:
		files := cacheDir + ".repository"
		if err := unpackMirrorFS(s.Repository.MirrorFS, files); err != nil {
			return nil, fmt.Errorf("spec.repository.mirrorFS: %w", err)
		}
		client := &http.Client{Transport: http.NewFileTransportFS(os.DirFS(files)), Timeout: time.Minute}
		data, _, err := tuf.Initialize(ctx, tuf.InitOptions{Mirror: serializedMirror, Root: s.Repository.Root, CacheDir: cacheDir, HTTPClient: client})
		if err != nil {
			return nil, fmt.Errorf("from spec.repository: %w", err)
		}
		return data, nil
	case s.SigstoreKeys != nil:
		data, err := sigstoreKeysRoot(s.SigstoreKeys)
		if err != nil {
			return nil, fmt.Errorf("spec.sigstoreKeys.%w", err)
		}
		return data, nil
	}
	return nil, errors.New("no spec.remote, spec.repository or spec.sigstoreKeys")
}

// unpackMirrorFS writes the regular files of a gzipped tar into dir (replacing what was
// there), dropping a leading repository/ from their paths as policy-controller does. Paths
// that leave dir, and archives past MaxMirrorFSSize or MaxMirrorFSFiles, are refused.
func unpackMirrorFS(tgz []byte, dir string) error {
	zr, err := gzip.NewReader(bytes.NewReader(tgz))
	if err != nil {
		return fmt.Errorf("not a gzipped tar: %w", err)
	}
	defer zr.Close()
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	tr := tar.NewReader(zr)
	var total int64
	for n := 0; ; n++ {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("reading the tar: %w", err)
		}
		if n >= MaxMirrorFSFiles {
			return fmt.Errorf("more than %d entries", MaxMirrorFSFiles)
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		name := strings.TrimPrefix(strings.TrimPrefix(path.Clean(h.Name), "/"), "repository/")
		if !filepath.IsLocal(name) {
			return fmt.Errorf("entry %q: not a path inside the repository", h.Name)
		}
		total += h.Size
		if total > MaxMirrorFSSize {
			return fmt.Errorf("more than %d bytes unpacked", MaxMirrorFSSize)
		}
		data, err := limitio.ReadAll(tr, h.Size)
		if err != nil {
			return fmt.Errorf("entry %q: %w", h.Name, err)
		}
		target := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(target), 0o700); err != nil {
			return err
		}
		if err := os.WriteFile(target, data, 0o600); err != nil {
			return err
		}
	}
	return nil
}

// sigstoreKeysRoot builds the trusted root of inline trust material. Its errors start with
// the field they are about, for the caller to prefix with spec.sigstoreKeys.
func sigstoreKeysRoot(k *policy.SigstoreKeys) ([]byte, error) {
	epoch := &protocommon.TimeRange{Start: timestamppb.New(time.Unix(0, 0))}
	tr := &prototrustroot.TrustedRoot{}
	authorities := func(field string, in []policy.CertificateAuthority) ([]*prototrustroot.CertificateAuthority, error) {
		var out []*prototrustroot.CertificateAuthority
		for i, ca := range in {
			chain, err := pki.ParseCertificates(ca.CertChain)
			if err != nil {
				return nil, fmt.Errorf("%s[%d].certChain: %w", field, i, err)
			}
			pb, err := pki.CertificateAuthority(chain, ca.URI)
			if err != nil {
				return nil, fmt.Errorf("%s[%d].certChain: %w", field, i, err)
			}
			if ca.Subject != (policy.DistinguishedName{}) {
				pb.Subject = &protocommon.DistinguishedName{Organization: ca.Subject.Organization, CommonName: ca.Subject.CommonName}
			}
			pb.ValidFor = epoch
			out = append(out, pb)
		}
		return out, nil
	}
	var err error
	if tr.CertificateAuthorities, err = authorities("certificateAuthorities", k.CertificateAuthorities); err != nil {
		return nil, err
	}
	if tr.TimestampAuthorities, err = authorities("timestampAuthorities", k.TimeStampAuthorities); err != nil {
		return nil, err
	}
	logs := func(field string, in []policy.TransparencyLogInstance, checkpointIDs bool) ([]*prototrustroot.TransparencyLogInstance, error) {
		var out []*prototrustroot.TransparencyLogInstance
		for i, l := range in {
			pb, err := logInstance(l, checkpointIDs)
			if err != nil {
				return nil, fmt.Errorf("%s[%d]: %w", field, i, err)
			}
			pb.PublicKey.ValidFor = epoch
			out = append(out, pb)
		}
		return out, nil
	}
	if tr.Tlogs, err = logs("tLogs", k.TLogs, true); err != nil {
		return nil, err
	}
	if tr.Ctlogs, err = logs("ctLogs", k.CTLogs, false); err != nil {
		return nil, err
	}
	return root.MarshalTrustedRoot(tr)
}

// logInstance describes one log for a trusted root. The log ID of an Ed25519 transparency log
// (checkpointIDs) is its checkpoint key ID, as Rekor v2 logs are named; any other log's is the
// SHA-256 of its key.
func logInstance(l policy.TransparencyLogInstance, checkpointIDs bool) (*prototrustroot.TransparencyLogInstance, error) {
	pub, err := signer.ParsePublicKeyPEM(l.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("publicKey: %w", err)
	}
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("publicKey: %w", err)
	}
	details, _, err := signer.AlgorithmFor(pub)
	if err != nil {
		return nil, fmt.Errorf("publicKey: %w", err)
	}
	var id []byte
	if ed, ok := pub.(ed25519.PublicKey); ok && checkpointIDs {
		details = protocommon.PublicKeyDetails_PKIX_ED25519
		origin, err := tlog.OriginFromURL(l.BaseURL)
		if err != nil {
			return nil, fmt.Errorf("baseURL: %w", err)
		}
		sum := tlog.Ed25519KeyID(origin, ed)
		id = sum[:]
	} else {
		sum, err := pki.LogID(pub)
		if err != nil {
			return nil, fmt.Errorf("publicKey: %w", err)
		}
		id = sum[:]
	}
	return &prototrustroot.TransparencyLogInstance{
		BaseUrl:       l.BaseURL,
		HashAlgorithm: protocommon.HashAlgorithm_SHA2_256,
		PublicKey:     &protocommon.PublicKey{RawBytes: der, KeyDetails: details},
		LogId:         &protocommon.LogId{KeyId: id},
	}, nil
}
