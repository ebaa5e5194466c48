package admission

import (
	"encoding/json"
	"fmt"

	admissionv1 "k8s.io/api/admission/v1"
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/cosign-like/cosign-like/pkg/admission/policy"
)

// podSpecAt is a pod spec inside an object, with where it is: as a field path for messages
// (spec.template.spec) and as a JSON pointer for patches (/spec/template/spec).
type podSpecAt struct {
	spec    *corev1.PodSpec
	field   string
	pointer string
}

// reviewed is what a review's object holds for the webhooks.
type reviewed struct {
	obj    Object
	specs  []podSpecAt
	skip   string // why the object is admitted unexamined ("" when it is examined)
	images []imageAt
}

// imageAt is one container image and where it is.
type imageAt struct {
	Image
	pointer string
}

// objectParts are the parts of a decoded object the webhooks read.
type objectParts struct {
	meta     *metav1.ObjectMeta
	typeMeta metav1.TypeMeta
	spec     any
	podSpec  podSpecAt
}

// decodeAs decodes raw as a T and takes its parts.
func decodeAs[T any](parts func(*T) objectParts) func([]byte) (objectParts, error) {
	return func(raw []byte) (objectParts, error) {
		var o T
		if err := json.Unmarshal(raw, &o); err != nil {
			return objectParts{}, err
		}
		return parts(&o), nil
	}
}

// workload is the parts of a workload whose pod template is at spec.template.spec.
func workload(meta *metav1.ObjectMeta, tm metav1.TypeMeta, spec any, ps *corev1.PodSpec) objectParts {
	return objectParts{meta, tm, spec, podSpecAt{ps, "spec.template.spec", "/spec/template/spec"}}
}

// kinds are the objects read, by group, version and kind.
var kinds = map[metav1.GroupVersionKind]func([]byte) (objectParts, error){
	{Version: "v1", Kind: "Pod"}: decodeAs(func(o *corev1.Pod) objectParts {
		return objectParts{&o.ObjectMeta, o.TypeMeta, o.Spec, podSpecAt{&o.Spec, "spec", "/spec"}}
	}),
	{Group: "apps", Version: "v1", Kind: "Deployment"}: decodeAs(func(o *appsv1.Deployment) objectParts {
		return workload(&o.ObjectMeta, o.TypeMeta, o.Spec, &o.Spec.Template.Spec)
	}),
	{Group: "apps", Version: "v1", Kind: "ReplicaSet"}: decodeAs(func(o *appsv1.ReplicaSet) objectParts {
		return workload(&o.ObjectMeta, o.TypeMeta, o.Spec, &o.Spec.Template.Spec)
	}),
	{Group: "apps", Version: "v1", Kind: "StatefulSet"}: decodeAs(func(o *appsv1.StatefulSet) objectParts {
		return workload(&o.ObjectMeta, o.TypeMeta, o.Spec, &o.Spec.Template.Spec)
	}),
	{Group: "apps", Version: "v1", Kind: "DaemonSet"}: decodeAs(func(o *appsv1.DaemonSet) objectParts {
		return workload(&o.ObjectMeta, o.TypeMeta, o.Spec, &o.Spec.Template.Spec)
	}),
	{Group: "batch", Version: "v1", Kind: "Job"}: decodeAs(func(o *batchv1.Job) objectParts {
		return workload(&o.ObjectMeta, o.TypeMeta, o.Spec, &o.Spec.Template.Spec)
	}),
	{Group: "batch", Version: "v1", Kind: "CronJob"}: decodeAs(func(o *batchv1.CronJob) objectParts {
		return objectParts{&o.ObjectMeta, o.TypeMeta, o.Spec, podSpecAt{&o.Spec.JobTemplate.Spec.Template.Spec,
			"spec.jobTemplate.spec.template.spec", "/spec/jobTemplate/spec/template/spec"}}
	}),
}

// readObject decodes the object of an admission request: a Pod, or a Deployment, ReplicaSet,
// StatefulSet, DaemonSet, Job or CronJob and its pod template. Deletions, connections, other
// subresources than ephemeralcontainers, objects being deleted, and other kinds are admitted
// unexamined (the webhook configuration does not send them).
func readObject(req *admissionv1.AdmissionRequest) (*reviewed, error) {
	switch {
	case req.Operation == admissionv1.Delete || req.Operation == admissionv1.Connect:
		return &reviewed{skip: "operation " + string(req.Operation)}, nil
	case req.SubResource != "" && req.SubResource != "ephemeralcontainers":
		return &reviewed{skip: "subresource " + req.SubResource}, nil
	}
	gvk := req.Kind
	read, ok := kinds[metav1.GroupVersionKind{Group: gvk.Group, Version: gvk.Version, Kind: gvk.Kind}]
	if !ok {
		return &reviewed{skip: "kind " + gvk.String()}, nil
	}
	o, err := read(req.Object.Raw)
	if err != nil {
		return nil, fmt.Errorf("decoding the %s: %w", gvk.Kind, err)
	}
	meta, tm, spec := o.meta, o.typeMeta, o.spec
	r := &reviewed{specs: []podSpecAt{o.podSpec}}
	if meta.DeletionTimestamp != nil {
		return &reviewed{skip: "being deleted"}, nil
	}
	if tm.Kind == "" {
		tm = metav1.TypeMeta{Kind: gvk.Kind, APIVersion: metav1.GroupVersion{Group: gvk.Group, Version: gvk.Version}.String()}
	}
	r.obj = Object{
		Resource:   policy.Resource{APIVersion: tm.APIVersion, Kind: tm.Kind, Labels: meta.Labels},
		Spec:       spec,
		ObjectMeta: meta,
		TypeMeta:   tm,
	}
	for _, s := range r.specs {
		add := func(list, image string, i int) {
			r.images = append(r.images, imageAt{
				Image:   Image{Ref: image, Field: fmt.Sprintf("%s.%s[%d].image", s.field, list, i)},
				pointer: fmt.Sprintf("%s/%s/%d/image", s.pointer, list, i),
			})
		}
		for i, c := range s.spec.InitContainers {
			add("initContainers", c.Image, i)
		}
		for i, c := range s.spec.Containers {
			add("containers", c.Image, i)
		}
		for i, c := range s.spec.EphemeralContainers {
			add("ephemeralContainers", c.Image, i)
		}
	}
	return r, nil
}
