// Package oci does registry I/O for cosign-like on go-containerregistry: it resolves
// references to digests, walks indexes, reads and writes signature, attestation and SBOM
// artifacts in both layouts (Sigstore bundles attached as OCI 1.1 referrers or through the
// referrers tag schema, and cosign's legacy .sig/.att/.sbom tags), copies images with what is
// attached to them between registries and OCI layouts, and bounds every count and size it
// reads. It knows nothing about keys or certificates: it moves bytes and annotations.
//
// # Requests
//
// Attaching and listing speak the distribution API directly, so that each operation makes as
// few requests as the registry allows: no /v2/ ping (a 401 challenge is answered when it
// comes, and WithAuthCache shares the answer across calls), one GET to resolve a reference,
// one POST per small blob (a single-request upload where the registry accepts it, a mount of
// a blob the repository already holds otherwise) plus a PUT when the registry opens an upload
// session, the OCI-Subject answer header instead of a referrers probe, and concurrent fetches
// of listed artifacts. Images themselves (Copy, Save, Load) are moved with
// go-containerregistry's remote and layout packages, which stream large layers.
//
// # Concurrent writers and the referrers tag schema
//
// A registry without the referrers API keeps a bundle's link to its image only in the index
// at tag sha256-<hex>, which each writer reads, extends and writes back. Registries such as
// distribution 2.8 offer no conditional write, so two writers can each overwrite the other's
// entry. AttachBundle narrows this race: after writing it reads the index back at once and
// again after a random delay that grows with its own read-to-write time, and writes its entry
// again, after a random backoff that doubles with each loss, until both reads show it
// (If-Match is sent where the registry gave an ETag, and a 412 answer restarts the round). What this guarantees: an attach that returns without error saw
// its entry in the index twice, the second time at least the delay after its last write. It
// does not guarantee the entry survives a writer whose read came before that write and whose
// write comes after the second confirming read; such a writer must have been slower than the
// delay between its own read and write. The legacy .sig/.att/.sbom tags are updated the same
// way. Registries with the referrers API have no such race.
package oci
