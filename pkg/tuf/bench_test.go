package tuf

import (
	"context"
	"testing"
)

// BenchmarkLoad measures Load against a repository on 127.0.0.1: online (a refresh that finds
// nothing new: root probe, timestamp, cached snapshot, targets and target files) and offline.
func BenchmarkLoad(b *testing.B) {
	for _, offline := range []bool{false, true} {
		name := "online"
		if offline {
			name = "offline"
		}
		b.Run(name, func(b *testing.B) {
			tr := newTestRepo(b, RepoOptions{})
			cache := initClient(b, tr)
			for b.Loop() {
				if _, _, err := loadTargets(context.Background(), LoadOptions{CacheDir: cache, Offline: offline}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
