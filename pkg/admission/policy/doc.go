// Package policy reads sigstore policy-controller's ClusterImagePolicy documents
// (policy.sigstore.dev/v1beta1, and v1alpha1, which has the same shape) and its TrustRoot
// documents (v1alpha1, spec.remote): it decodes them
// strictly from YAML, refusing any field it does not know or does not honour with the file and
// the field named, checks them as policy-controller's validator does, and says which policies
// an image and a resource match (image globs with Docker Hub normalisation, spec.match). It is
// pure: it fetches nothing and loads no key; pkg/admission turns a policy into verifications.
package policy
