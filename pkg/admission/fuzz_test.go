package admission

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	admissionv1 "k8s.io/api/admission/v1"
)

// FuzzReadObject: whatever object a review carries, reading it fails or yields images whose
// fields and patch paths point into the pod spec it found.
func FuzzReadObject(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "reviews", "*.json"))
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var review admissionv1.AdmissionReview
		if json.Unmarshal(data, &review) != nil || review.Request == nil {
			return
		}
		r, err := readObject(review.Request)
		if err != nil || r.skip != "" {
			return
		}
		for _, img := range r.images {
			if !strings.HasPrefix(img.pointer, "/spec/") || !strings.HasPrefix(img.Field, "spec.") || !strings.HasSuffix(img.pointer, "/image") {
				t.Fatalf("image %+v", img)
			}
		}
	})
}
