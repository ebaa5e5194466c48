package testutil

import (
	"os"
	"strings"
	"testing"
)

// Balanced is a set of server processes behind one haproxy: front-ends of one log, or replicas
// of one server.
type Balanced struct {
	// Procs are the servers, in the order started.
	Procs []*ServerProcess
	// URL is the balancer's, http://<addr>.
	URL string
}

// StartBalanced starts n servers with start(i), i from 0, and haproxy in front of them
// (StartHAProxy). When the test ends it SIGKILLs them, and fails the test if a server's
// standard error mentions a panic.
func StartBalanced(t testing.TB, n int, start func(i int) *ServerProcess) *Balanced {
	t.Helper()
	b := &Balanced{}
	var hosts []string
	for i := range n {
		p := start(i)
		t.Cleanup(func() {
			p.Kill()
			if strings.Contains(p.Stderr.String(), "panic") {
				t.Errorf("server %d's log mentions a panic:\n%s", i+1, p.Stderr.String())
			}
		})
		b.Procs = append(b.Procs, p)
		hosts = append(hosts, strings.TrimPrefix(p.URL, "http://"))
	}
	b.URL = StartHAProxy(t, hosts)
	return b
}

// ReplicaDir copies the state directory dir (keys and configuration, as init wrote them) into a
// new temporary directory and returns it: what each machine of a set holds.
func ReplicaDir(t testing.TB, dir string) string {
	t.Helper()
	cp := StorageDir(t)
	if err := os.CopyFS(cp, os.DirFS(dir)); err != nil {
		t.Fatalf("copying %s: %v", dir, err)
	}
	return cp
}
