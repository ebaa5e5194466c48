// Package fsutil writes files atomically: through a temporary file beside the target and a
// rename, so that a reader sees the old content or the new one, never part of either.
package fsutil
