// Package fsutil writes files atomically: through a temporary file beside the target and a
// rename, so that a reader sees the old content or the new one, never part of either;
// WriteFileDurable also flushes the file and the rename to the disk before it returns.
package fsutil
