package rekortypes

import (
	"encoding/base64"
	"slices"
	"strings"
)

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

func mapKeys[V any](m map[string]V) string {
	var k []string
	for s := range m {
		k = append(k, s)
	}
	slices.Sort(k)
	return strings.Join(k, ", ")
}
