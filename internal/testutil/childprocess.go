package testutil

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// childProcess is a server process a test starts, stops and starts again.
type childProcess struct {
	cmd  *exec.Cmd
	done chan struct{}
}

// start starts cmd.
func (p *childProcess) start(cmd *exec.Cmd) error {
	if err := cmd.Start(); err != nil {
		return err
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	p.cmd, p.done = cmd, done
	return nil
}

// running reports whether the process was started and not stopped.
func (p *childProcess) running() bool { return p.cmd != nil }

// stop sends SIGTERM, waits up to grace, then SIGKILLs, and waits for the end.
func (p *childProcess) stop(grace time.Duration) {
	if p.cmd == nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(grace):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
	p.cmd = nil
}

// kill SIGKILLs the process and waits for its end.
func (p *childProcess) kill() {
	if p.cmd == nil {
		return
	}
	_ = p.cmd.Process.Kill()
	<-p.done
	p.cmd = nil
}

// awaitReady calls probe every poll until it succeeds, failing when the process exits first
// (with the contents of logFile) or after timeout.
func (p *childProcess) awaitReady(name, logFile string, timeout, poll time.Duration, probe func() error) error {
	deadline := time.Now().Add(timeout)
	for {
		err := probe()
		if err == nil {
			return nil
		}
		select {
		case <-p.done:
			p.kill()
			log, _ := os.ReadFile(logFile)
			return fmt.Errorf("%s exited at start: %s", name, log)
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s did not become ready in %s: %w", name, timeout, err)
		}
		time.Sleep(poll)
	}
}

// dialable is a readiness probe: a TCP connection to addr succeeds.
func dialable(addr string) func() error {
	return func() error {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
		}
		return err
	}
}
