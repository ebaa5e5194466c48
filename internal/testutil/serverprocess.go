package testutil

import (
	"bufio"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// ServerProcess is a server run as a process of its own, for tests that SIGKILL it: the test
// binary run again (StartServerProcess; the test's TestMain serves when it sees the environment
// added), or a command as a user runs it (StartServerCommand).
type ServerProcess struct {
	// URL is http://<addr>, from the server's announcement.
	URL string
	// Stderr is what the process wrote to its standard error (its logs).
	Stderr *SyncBuffer
	cmd    *exec.Cmd
	done   chan struct{}
}

// StartServerProcess runs the test binary with -test.run=^$ and env added to the environment,
// and waits up to 30 s for the line "<name> listening on http://<addr>" that httpserver.Run
// announces on its standard output.
func StartServerProcess(t testing.TB, name string, env ...string) *ServerProcess {
	t.Helper()
	return StartServerCommand(t, name, env, os.Args[0], "-test.run=^$")
}

// StartServerCommand runs bin with args, env added to the environment, and waits up to 30 s
// for the line "<name> listening on http://<addr>" that httpserver.Run announces on its
// standard output (as the server commands of cosign-like do, with --addr 127.0.0.1:0 too).
func StartServerCommand(t testing.TB, name string, env []string, bin string, args ...string) *ServerProcess {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p := &ServerProcess{Stderr: &SyncBuffer{}, cmd: cmd, done: make(chan struct{})}
	cmd.Stderr = p.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = cmd.Wait(); close(p.done) }()
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if a, ok := strings.CutPrefix(sc.Text(), name+" listening on http://"); ok {
				addr <- a
			}
		}
		_, _ = io.Copy(io.Discard, out)
	}()
	select {
	case a := <-addr:
		p.URL = "http://" + a
	case <-p.done:
		t.Fatalf("%s process exited: %s", name, p.Stderr.String())
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatalf("%s process did not start: %s", name, p.Stderr.String())
	}
	return p
}

// Kill SIGKILLs the process and waits for it to end.
func (p *ServerProcess) Kill() {
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

// Stop SIGTERMs the process, waits up to 40 s for it to end (then kills it), and fails the test
// unless it exited with 0.
func (p *ServerProcess) Stop(t testing.TB) {
	t.Helper()
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(40 * time.Second):
		p.Kill()
		t.Errorf("server did not stop on SIGTERM")
	}
	if code := p.cmd.ProcessState.ExitCode(); code != 0 {
		t.Errorf("server exited with %d: %s", code, p.Stderr.String())
	}
}
