package admission

import (
	"sync"
	"time"
)

// cache remembers the authorities a policy passed with, by image digest and policy content,
// for a while. Failures are never stored: the next request checks again.
type cache struct {
	ttl time.Duration
	max int
	now func() time.Time

	mu sync.Mutex
	m  map[string]cacheEntry
}

type cacheEntry struct {
	matches map[string]AuthorityMatch
	expires time.Time
}

// newCache returns a cache; a ttl below zero disables it.
func newCache(ttl time.Duration, max int, now func() time.Time) *cache {
	return &cache{ttl: ttl, max: max, now: now, m: map[string]cacheEntry{}}
}

func (c *cache) get(key string) (map[string]AuthorityMatch, bool) {
	if c.ttl < 0 {
		return nil, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[key]
	if !ok {
		return nil, false
	}
	if !c.now().Before(e.expires) {
		delete(c.m, key)
		return nil, false
	}
	return e.matches, true
}

func (c *cache) put(key string, matches map[string]AuthorityMatch) {
	if c.ttl < 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	if len(c.m) >= c.max {
		for k, e := range c.m {
			if !now.Before(e.expires) {
				delete(c.m, k)
			}
		}
		// Still full: drop entries at random (map order) until there is room.
		for k := range c.m {
			if len(c.m) < c.max {
				break
			}
			delete(c.m, k)
		}
	}
	c.m[key] = cacheEntry{matches: matches, expires: now.Add(c.ttl)}
}
