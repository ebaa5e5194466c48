package logserver

import (
	"context"
	"sync"
	"time"

	"github.com/transparency-dev/tessera"
)

// maxGroup bounds the entries handed to the storage as one group.
const maxGroup = 4096

// groupCommitter feeds entries to Tessera in groups: while one group is being sequenced and
// written (a few fsyncs, whatever its size), the entries that arrive wait and form the next group.
// Batches so grow with the load instead of being cut every few milliseconds, and a lone entry is
// written at once.
type groupCommitter struct {
	add tessera.AddFn
	// observe is told the size and write time of each group.
	observe func(size int, d time.Duration)

	mu      sync.Mutex
	pending []pendingEntry
	wake    chan struct{}
	done    chan struct{}
}

type pendingEntry struct {
	ctx    context.Context
	entry  *tessera.Entry
	future chan tessera.IndexFuture
}

func newGroupCommitter(add tessera.AddFn, observe func(int, time.Duration)) *groupCommitter {
	g := &groupCommitter{add: add, observe: observe, wake: make(chan struct{}, 1), done: make(chan struct{})}
	go g.loop()
	return g
}

// Add queues e and returns its future once the entry is handed to the storage.
func (g *groupCommitter) Add(ctx context.Context, e *tessera.Entry) tessera.IndexFuture {
	p := pendingEntry{ctx: ctx, entry: e, future: make(chan tessera.IndexFuture, 1)}
	g.mu.Lock()
	g.pending = append(g.pending, p)
	g.mu.Unlock()
	select {
	case g.wake <- struct{}{}:
	default:
	}
	select {
	case f := <-p.future:
		return f
	case <-g.done:
		return func() (tessera.Index, error) { return tessera.Index{}, context.Canceled }
	}
}

// close stops the loop; entries not yet handed over fail with context.Canceled.
func (g *groupCommitter) close() { close(g.done) }

func (g *groupCommitter) loop() {
	for {
		select {
		case <-g.done:
			return
		case <-g.wake:
		}
		for {
			g.mu.Lock()
			n := min(len(g.pending), maxGroup)
			group := g.pending[:n:n]
			g.pending = g.pending[n:]
			if len(g.pending) == 0 {
				g.pending = nil
			}
			g.mu.Unlock()
			if n == 0 {
				break
			}
			start := time.Now()
			var last tessera.IndexFuture
			for _, p := range group {
				f := g.add(p.ctx, p.entry)
				p.future <- f
				last = f
			}
			// Wait for the group to be sequenced (and, but for Tessera's AWS driver, integrated)
			// before the next one.
			_, _ = last()
			g.observe(n, time.Since(start))
		}
	}
}
