package rekortypes

import (
	"encoding/base64"
	"maps"
	"slices"
	"strings"
)

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

// mapKeys lists the keys of m in order, for messages naming what is accepted.
func mapKeys[V any](m map[string]V) string { return strings.Join(slices.Sorted(maps.Keys(m)), ", ") }
