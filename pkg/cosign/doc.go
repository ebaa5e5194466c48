// Package cosign is the library behind the command line: signing, verifying, attesting,
// attaching, listing, downloading and cleaning the signatures of images and blobs, as cosign
// does them. It composes the registry, signer, bundle, log, CA, TSA and verify packages; the
// commands parse flags, call one function here and print, so a library user gets the same
// behaviour.
package cosign
