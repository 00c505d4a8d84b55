package main

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"time"

	"hogs/bench/internal/vethlab"
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

// child is a program running inside a namespace (a vethlab.Proc) with its
// output kept.
type child struct {
	*vethlab.Proc
	out, err *capBuf
}

func startChild(name, ns string, argv ...string) (*child, error) {
	c := &child{out: &capBuf{limit: 32 << 20}, err: &capBuf{limit: 4 << 20}}
	p, err := reg.StartIn(name, ns, c.out, c.err, argv...)
	if err != nil {
		return nil, err
	}
	c.Proc = p
	return c, nil
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
		if c.Exited() {
			return fmt.Errorf("%s exited (%v) before printing %q: %s", c.Name, c.WaitErr, line, strings.TrimSpace(c.err.String()))
		}
		time.Sleep(10 * time.Millisecond)
	}
	return fmt.Errorf("%s did not print %q within %v", c.Name, line, d)
}
