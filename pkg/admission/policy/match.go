package policy

import (
	"errors"
	"fmt"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Resource is the object an image comes from, as spec.match sees it.
type Resource struct {
	// APIVersion and Kind are the object's ("v1" and "Pod", "apps/v1" and "Deployment").
	APIVersion, Kind string
	// Labels are the object's own labels.
	Labels map[string]string
}

// MatchesResource says whether the policy applies to objects like r: always when spec.match
// is empty, else when one entry names r's group, version (exactly or "*") and resource (the
// plural Kubernetes guesses from the kind: pods, deployments) and its selector, if any,
// matches r's labels. A Resource with no kind (an image judged alone, as `admission test`
// does) matches only policies without spec.match.
func (p *ClusterImagePolicy) MatchesResource(r Resource) (bool, error) {
	if len(p.Spec.Match) == 0 {
		return true, nil
	}
	if r.Kind == "" {
		return false, nil
	}
	gv, err := schema.ParseGroupVersion(r.APIVersion)
	if err != nil {
		return false, fmt.Errorf("resource apiVersion %q: %w", r.APIVersion, err)
	}
	gvr, _ := meta.UnsafeGuessKindToResource(gv.WithKind(r.Kind))
	for _, m := range p.Spec.Match {
		if m.Resource != gvr.Resource || m.Group != gvr.Group || (m.Version != gvr.Version && m.Version != "*") {
			continue
		}
		if m.ResourceSelector != nil {
			sel, err := labelSelector(m.ResourceSelector)
			if err != nil {
				return false, err
			}
			if !sel.Matches(labels.Set(r.Labels)) {
				continue
			}
		}
		return true, nil
	}
	return false, nil
}

// MatchesImage says whether one of spec.images matches image (see Glob.Match). The policy
// must have been validated (Parse does it).
func (p *ClusterImagePolicy) MatchesImage(image string) (bool, error) {
	if len(p.globs) == 0 && len(p.Spec.Images) > 0 {
		return false, errors.New("policy not validated")
	}
	var lastErr error
	for _, g := range p.globs {
		ok, err := g.Match(image)
		if err != nil {
			lastErr = err
			continue
		}
		if ok {
			return true, nil
		}
	}
	return false, lastErr
}

// labelSelector converts a selector, naming what is wrong with it.
func labelSelector(s *metav1.LabelSelector) (labels.Selector, error) {
	sel, err := metav1.LabelSelectorAsSelector(s)
	if err != nil {
		return nil, fmt.Errorf("label selector: %w", err)
	}
	return sel, nil
}
