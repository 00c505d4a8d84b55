//go:build linux

package harness

import (
	"fmt"
	"os/exec"
	"strings"
	"time"

	"hogs/internal/netlab"
)

// Child is a program running inside a namespace (a netlab.Proc) with its
// output kept line by line.
type Child struct {
	*netlab.Proc
	Out, Err *Output
}

// Start starts argv in namespace ns; isRefresh marks refresh lines on its
// stdout (nil: none).
func Start(lab *netlab.Lab, name, ns string, isRefresh func(string) bool, argv ...string) (*Child, error) {
	return StartInCgroup(lab, name, ns, nil, isRefresh, argv...)
}

// StartInCgroup is Start with the program started inside cgroup cg (nil:
// the harness's own), its children too.
func StartInCgroup(lab *netlab.Lab, name, ns string, cg *netlab.ServiceCgroup, isRefresh func(string) bool, argv ...string) (*Child, error) {
	c := &Child{Out: NewOutput(200_000, isRefresh), Err: NewOutput(50_000, nil)}
	cmd := exec.Command("ip", append([]string{"netns", "exec", ns}, argv...)...)
	if cg != nil {
		cg.Enter(cmd)
	}
	p, err := lab.Start(name, cmd, c.Out, c.Err)
	if err != nil {
		return nil, err
	}
	c.Proc = p
	return c, nil
}

// WaitLine waits up to d for a stdout line starting with prefix and
// returns it.
func (c *Child) WaitLine(prefix string, d time.Duration) (string, error) {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if l, ok := c.Out.Find(prefix); ok {
			return l, nil
		}
		if c.Exited() {
			if l, ok := c.Out.Find(prefix); ok {
				return l, nil
			}
			return "", fmt.Errorf("%s exited (%v) before printing %q: %s", c.Name, c.WaitErr, prefix, strings.TrimSpace(c.Err.Text()))
		}
		time.Sleep(10 * time.Millisecond)
	}
	return "", fmt.Errorf("%s did not print %q within %v", c.Name, prefix, d)
}

// WaitRefresh waits up to d for a refresh that arrives at or after t and
// returns its index and arrival time.
func (c *Child) WaitRefresh(t time.Time, d time.Duration) (int, time.Time, error) {
	timer := time.NewTimer(d)
	defer timer.Stop()
	for {
		if i, at, ok := c.Out.RefreshAfter(t); ok {
			return i, at, nil
		}
		select {
		case <-c.Out.notify:
		case <-c.Done():
			if i, at, ok := c.Out.RefreshAfter(t); ok {
				return i, at, nil
			}
			return 0, time.Time{}, fmt.Errorf("%s exited (%v): %s", c.Name, c.WaitErr, strings.TrimSpace(c.Err.Text()))
		case <-timer.C:
			return 0, time.Time{}, fmt.Errorf("%s printed no refresh within %v", c.Name, d)
		}
	}
}

// StopWithin stops the child if it still runs (SIGTERM, SIGKILL after
// grace).
func (c *Child) StopWithin(grace time.Duration) {
	if !c.Exited() {
		c.Stop(grace)
	}
}
