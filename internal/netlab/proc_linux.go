package netlab

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// Proc is a process a Lab started. It runs in its own process group (a
// terminal's ^C reaches only the program that started it, which stops
// everything in order) with PR_SET_PDEATHSIG SIGKILL (even a SIGKILLed
// starter takes it along), and the Lab records it until it has been
// waited for. A goroutine waits for it; WaitErr is set before Done is
// closed, so it may be read once Exited reports true, Wait returns true or
// Done is closed.
type Proc struct {
	Name    string    // in messages
	Cmd     *exec.Cmd // started; not to be waited for by the caller
	WaitErr error     // what Cmd.Wait returned; valid once Done is closed
	done    chan struct{}
}

// StartIn starts argv in namespace ns through `ip netns exec`, which execs
// it (the PID is the program's), with its stdout and stderr going to the
// given writers.
func (l *Lab) StartIn(name, ns string, stdout, stderr io.Writer, argv ...string) (*Proc, error) {
	return l.Start(name, exec.Command("ip", append([]string{"netns", "exec", ns}, argv...)...), stdout, stderr)
}

// Start starts cmd as a Proc, in the caller's namespace unless cmd enters
// another; StartIn is Start through ip netns exec.
func (l *Lab) Start(name string, cmd *exec.Cmd, stdout, stderr io.Writer) (*Proc, error) {
	p := &Proc{Name: name, Cmd: cmd, done: make(chan struct{})}
	attr := &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if c := cmd.SysProcAttr; c != nil {
		attr.UseCgroupFD, attr.CgroupFD = c.UseCgroupFD, c.CgroupFD // ServiceCgroup.Enter
	}
	cmd.SysProcAttr = attr
	cmd.Stdout, cmd.Stderr = stdout, stderr
	cmd.WaitDelay = 2 * time.Second
	l.mu.Lock()
	if l.stopping {
		l.mu.Unlock()
		return nil, fmt.Errorf("starting %s: %w", name, ErrStopping)
	}
	if err := cmd.Start(); err != nil {
		l.mu.Unlock()
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	l.procs[p] = struct{}{}
	l.mu.Unlock()
	go func() {
		p.WaitErr = cmd.Wait()
		l.mu.Lock()
		delete(l.procs, p)
		l.mu.Unlock()
		close(p.done)
	}()
	return p, nil
}

// PID is the process's PID.
func (p *Proc) PID() int { return p.Cmd.Process.Pid }

// Done is closed once the process has exited and WaitErr is set.
func (p *Proc) Done() <-chan struct{} { return p.done }

// Exited reports whether the process has exited (and been waited for).
func (p *Proc) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Wait waits up to d for the process to exit by itself.
func (p *Proc) Wait(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-p.done:
		return true
	case <-t.C:
		return false
	}
}

// Signal sends sig to the process (by its PID) if it still runs.
func (p *Proc) Signal(sig os.Signal) {
	if !p.Exited() {
		p.Cmd.Process.Signal(sig)
	}
}

// Stop sends SIGTERM, then SIGKILL after grace; it reports whether SIGKILL
// was needed and how long the process took to go.
func (p *Proc) Stop(grace time.Duration) (killed bool, took time.Duration) {
	start := time.Now()
	if p.Exited() {
		return false, 0
	}
	p.Cmd.Process.Signal(syscall.SIGTERM)
	if !p.Wait(grace) {
		killed = true
		p.Cmd.Process.Kill()
		<-p.done
	}
	return killed, time.Since(start)
}

// Status describes how the process ended ("running" if it has not).
func (p *Proc) Status() string {
	if !p.Exited() {
		return "running"
	}
	if p.WaitErr == nil {
		return "exit 0"
	}
	return p.WaitErr.Error()
}
