//go:build linux

package harness

import (
	"fmt"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// Roles are the traffic processes of a harness, by name: the harness
// re-executes itself inside a namespace (ip netns exec NS /proc/self/exe
// ROLE ARGS...) to play one.
type Roles map[string]func(args []string) error

// RunIfAsked plays the role named by the program's first argument, if it
// names one, and exits: 0 when the role returns nil, 1 with its error, 3
// when lifetime has passed (every role ends by itself).
func (r Roles) RunIfAsked(lifetime time.Duration) {
	if len(os.Args) < 2 {
		return
	}
	name := os.Args[1]
	role, ok := r[name]
	if !ok {
		return
	}
	go func() {
		time.Sleep(lifetime)
		fmt.Fprintf(os.Stderr, "%s: lifetime of %v over, exiting\n", name, lifetime)
		os.Exit(3)
	}()
	if err := role(os.Args[2:]); err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
		os.Exit(1)
	}
	os.Exit(0)
}

// WantArgs checks that a role got n arguments; the error shows its usage
// line.
func WantArgs(args []string, n int, usage string) error {
	if len(args) != n {
		return fmt.Errorf("usage: %s", usage)
	}
	return nil
}

// ParseDuration parses a role's duration argument, which must lie in
// (0, max].
func ParseDuration(s string, max time.Duration) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, err
	}
	if d <= 0 || d > max {
		return 0, fmt.Errorf("duration %v out of range (0, %v]", d, max)
	}
	return d, nil
}

// UntilTerm blocks until the process gets SIGTERM or SIGINT, then runs
// report (if not nil).
func UntilTerm(report func()) {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	<-sig
	if report != nil {
		report()
	}
}

// OnTerm runs report and exits 0 when the process gets SIGTERM or SIGINT,
// while the caller goes on.
func OnTerm(report func()) {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		<-sig
		report()
		os.Exit(0)
	}()
}

// DialTCP connects to addr, retrying for about five seconds while its
// server starts.
func DialTCP(addr string) (*net.TCPConn, error) {
	var lastErr error
	for range 50 {
		c, err := net.DialTimeout("tcp4", addr, 2*time.Second)
		if err == nil {
			return c.(*net.TCPConn), nil
		}
		lastErr = err
		time.Sleep(100 * time.Millisecond)
	}
	return nil, lastErr
}
