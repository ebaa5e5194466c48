module github.com/cosign-like/cosign-like/pkg/signer/kmsplugin/interop

go 1.26.8

require (
	github.com/cosign-like/cosign-like v0.0.0
	github.com/sigstore/sigstore v1.10.9
)

require (
	github.com/ThalesGroup/crypto11 v1.5.0 // indirect
	github.com/google/go-containerregistry v0.22.0 // indirect
	github.com/miekg/pkcs11 v1.1.1 // indirect
	github.com/opencontainers/go-digest v1.0.0 // indirect
	github.com/pkg/errors v0.9.1 // indirect
	github.com/secure-systems-lab/go-securesystemslib v0.11.1 // indirect
	github.com/sigstore/protobuf-specs v0.5.1 // indirect
	github.com/thales-e-security/pool v0.0.2 // indirect
	github.com/youmark/pkcs8 v0.0.0-20240726163527-a2c0da244d78 // indirect
	golang.org/x/crypto v0.58.0 // indirect
	golang.org/x/sys v0.49.0 // indirect
	golang.org/x/term v0.47.0 // indirect
	google.golang.org/genproto/googleapis/api v0.0.0-20260727163830-6c54dddc4772 // indirect
	google.golang.org/protobuf v1.36.12 // indirect
)

replace github.com/cosign-like/cosign-like => ../../../..
