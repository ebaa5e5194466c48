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

// FuzzUnpackMirrorFS: whatever archive a TrustRoot's spec.repository.mirrorFS carries,
// unpacking it fails or writes files inside the directory it was given, and nothing beside it.
func FuzzUnpackMirrorFS(f *testing.F) {
	repo := f.TempDir()
	if err := os.WriteFile(filepath.Join(repo, "root.json"), []byte(`{"signed":{}}`), 0o644); err != nil {
		f.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(repo, "targets"), 0o755); err != nil {
		f.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(repo, "targets", "a.trusted_root.json"), []byte(`{}`), 0o644); err != nil {
		f.Fatal(err)
	}
	f.Add(tarGz(f, repo, "repository/"))
	f.Add(tarGz(f, repo, "../"))
	f.Add(tarGz(f, repo, "/"))
	f.Add([]byte("not gzip"))
	f.Fuzz(func(t *testing.T, data []byte) {
		parent := t.TempDir()
		dir := filepath.Join(parent, "repo")
		if err := unpackMirrorFS(data, dir); err != nil {
			return
		}
		entries, err := os.ReadDir(parent)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if e.Name() != "repo" {
				t.Fatalf("unpacking wrote %s beside the repository", e.Name())
			}
		}
	})
}
