// Package admission is the Kubernetes admission webhook: it reads AdmissionReview requests
// (admission.k8s.io/v1) for Pods and the pod templates of Deployments, ReplicaSets,
// StatefulSets, DaemonSets, Jobs and CronJobs, resolves image tags to digests (/mutate, a JSON
// patch) and verifies every image against the ClusterImagePolicy documents that match it
// (/validate) with the verifier of `verify` and `verify-attestation` (pkg/cosign). Every
// matching policy must pass; within a policy any authority suffices. A request has one time
// budget; registry errors are retried within it; verified results are cached by image digest
// and policy content. The Server has the shape of the other servers: Init writes a state
// directory (serving key and certificate, webhook configuration), Open or New build it,
// Handler serves it on internal/httpserver, Close ends it.
package admission
