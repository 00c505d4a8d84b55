package main

import (
	"bytes"
	"fmt"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

const (
	addrA = "10.88.0.1" // vA, in nsA: monitor and sinks
	addrB = "10.88.0.2" // vB, in nsB: generators
	macA  = "02:88:00:00:00:01"
	macB  = "02:88:00:00:00:02"
)

// capBuf collects a child's output, safe for concurrent use; past limit it
// drops its older half, so the latest refreshes always survive.
type capBuf struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	limit int
	lost  int
}

func (b *capBuf) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf.Write(p)
	if b.buf.Len() > b.limit {
		drop := b.buf.Len() - b.limit/2
		b.lost += drop
		b.buf.Next(drop)
	}
	return len(p), nil
}

func (b *capBuf) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// child is a program running inside a namespace through `ip netns exec`,
// which execs it: the PID is the program's own.
type child struct {
	name     string
	cmd      *exec.Cmd
	out, err *capBuf
	done     chan struct{}
	waitErr  error
}

func startChild(name, ns string, argv ...string) (*child, error) {
	c := &child{
		name: name,
		cmd:  exec.Command("ip", append([]string{"netns", "exec", ns}, argv...)...),
		out:  &capBuf{limit: 32 << 20},
		err:  &capBuf{limit: 4 << 20},
		done: make(chan struct{}),
	}
	// Own process group: a terminal's ^C reaches the harness only, which
	// stops everything in order. Pdeathsig: even a SIGKILLed harness takes
	// its children along.
	c.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	c.cmd.Stdout, c.cmd.Stderr = c.out, c.err
	c.cmd.WaitDelay = 2 * time.Second
	if err := reg.Start(c.cmd); err != nil {
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	go func() {
		c.waitErr = c.cmd.Wait()
		reg.Exited(c.cmd)
		close(c.done)
	}()
	return c, nil
}

func (c *child) pid() int { return c.cmd.Process.Pid }

func (c *child) exited() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// wait waits up to d for the child to exit by itself.
func (c *child) wait(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-c.done:
		return true
	case <-t.C:
		return false
	}
}

// stop sends SIGTERM, then SIGKILL after grace; it reports whether SIGKILL
// was needed and how long the child took to go.
func (c *child) stop(grace time.Duration) (killed bool, took time.Duration) {
	start := time.Now()
	if c.exited() {
		return false, 0
	}
	c.cmd.Process.Signal(syscall.SIGTERM)
	if !c.wait(grace) {
		killed = true
		c.cmd.Process.Kill()
		<-c.done
	}
	return killed, time.Since(start)
}

// waitLine waits up to d for a stdout line equal to line.
func (c *child) waitLine(line string, d time.Duration) error {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		for _, l := range strings.Split(c.out.String(), "\n") {
			if l == line {
				return nil
			}
		}
		if c.exited() {
			return fmt.Errorf("%s exited (%v) before printing %q: %s", c.name, c.waitErr, line, strings.TrimSpace(c.err.String()))
		}
		time.Sleep(10 * time.Millisecond)
	}
	return fmt.Errorf("%s did not print %q within %v", c.name, line, d)
}

// status describes how the child ended.
func (c *child) status() string {
	if !c.exited() {
		return "running"
	}
	if c.waitErr == nil {
		return "exit 0"
	}
	return c.waitErr.Error()
}
