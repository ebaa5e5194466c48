// Package verify holds the verification policy and the verifier. It is handed all material
// (bundle, artifact digest, trusted root) and fetches nothing; every check the policy demands
// must pass, in the order the Sigstore client specification gives, or verification fails.
package verify
