//go:build linux

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"hogs/bench/internal/harness"
)

// Limits that keep every traffic process bounded whatever its arguments.
const (
	maxIdle         = 60_000           // idle sockets per holder
	maxNewConns     = 10_000           // connections per new-connections run
	maxRate         = 100 << 20        // busy flow, bytes per second
	maxPhase        = 60 * time.Second // longest traffic run accepted
	connectDeadline = 90 * time.Second // the holder gives up connecting after this
	roleLifetime    = 5 * time.Minute  // every role exits by itself after this
)

// roles are the traffic processes: the harness re-executes itself inside a
// namespace (ip netns exec NS /proc/self/exe ROLE ARGS...) to play one.
var roles = harness.Roles{
	"idle-server":    idleServer,
	"idle-holder":    idleHolder,
	"busy-sink":      busySink,
	"busy-client":    busyClient,
	"newconn-server": newconnServer,
	"newconn-client": newconnClient,
	"procs-launcher": procsLauncher,
	"one-shot":       oneShot,
}

// maxMessage bounds what a new connection sends or is answered.
const maxMessage = 1 << 20

// maxProcs bounds the short-lived client processes one launcher starts.
const maxProcs = 10_000

func wantArgs(args []string, n int, usage string) error {
	return harness.WantArgs(args, n, "sockets "+usage)
}

// raiseNofile lifts RLIMIT_NOFILE (soft and hard) to 50,000, or to n if
// more; without CAP_SYS_RESOURCE the hard limit cannot rise, and then the
// soft one goes up to the hard one, which must leave room for n.
func raiseNofile(n uint64) error {
	var rl unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &rl); err != nil {
		return err
	}
	target := max(50_000, n)
	if rl.Cur >= target {
		return nil
	}
	err := unix.Setrlimit(unix.RLIMIT_NOFILE, &unix.Rlimit{Cur: max(target, rl.Max), Max: max(target, rl.Max)})
	if err == nil {
		return nil
	}
	if rl.Max < n {
		return fmt.Errorf("setrlimit NOFILE %d: %w, and the hard limit is %d (no CAP_SYS_RESOURCE? use a smaller -per-process)", target, err, rl.Max)
	}
	rl.Cur = rl.Max
	return unix.Setrlimit(unix.RLIMIT_NOFILE, &rl)
}

func parsePorts(s string) ([]int, error) {
	var ports []int
	for _, f := range strings.Split(s, ",") {
		p, err := strconv.Atoi(f)
		if err != nil || p < 1 || p > 65535 {
			return nil, fmt.Errorf("bad port %q", f)
		}
		ports = append(ports, p)
	}
	return ports, nil
}

func parseIPv4(s string) ([4]byte, error) {
	ip := net.ParseIP(s).To4()
	if ip == nil {
		return [4]byte{}, fmt.Errorf("bad IPv4 address %q", s)
	}
	return [4]byte(ip), nil
}

func parseCount(s string, hi int) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || n > hi {
		return 0, fmt.Errorf("count %q out of range [0, %d]", s, hi)
	}
	return n, nil
}

func parseDuration(s string) (time.Duration, error) { return harness.ParseDuration(s, maxPhase) }

// idleServer listens on ADDR at each of PORTS (plain blocking sockets, no
// keepalive) and, in mode "accept", accepts and holds every connection
// without ever reading or writing; in mode "backlog" it never accepts, so
// the connections wait in the listen queue and hold no descriptor here.
func idleServer(args []string) error {
	if err := wantArgs(args, 4, "idle-server ADDR PORTS N accept|backlog"); err != nil {
		return err
	}
	addr, err := parseIPv4(args[0])
	if err != nil {
		return err
	}
	ports, err := parsePorts(args[1])
	if err != nil {
		return err
	}
	n, err := parseCount(args[2], maxIdle)
	if err != nil {
		return err
	}
	accept := args[3] == "accept"
	if !accept && args[3] != "backlog" {
		return fmt.Errorf("mode %q: accept or backlog", args[3])
	}
	if err := raiseNofile(uint64(n + 256)); err != nil {
		return err
	}
	var held atomic.Int64
	var firstErr atomic.Value
	for _, port := range ports {
		fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			return err
		}
		unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1)
		if err := unix.Bind(fd, &unix.SockaddrInet4{Port: port, Addr: addr}); err != nil {
			return fmt.Errorf("bind %s:%d: %w", args[0], port, err)
		}
		if err := unix.Listen(fd, 65535); err != nil {
			return err
		}
		if !accept {
			continue
		}
		go func() {
			for held.Load() < int64(n) {
				c, _, err := unix.Accept4(fd, unix.SOCK_CLOEXEC)
				if err != nil {
					if errors.Is(err, unix.EINTR) || errors.Is(err, unix.ECONNABORTED) {
						continue
					}
					firstErr.CompareAndSwap(nil, err)
					return
				}
				_ = c // held open until the process exits
				held.Add(1)
			}
		}()
	}
	fmt.Println("ready")
	harness.UntilTerm(func() {
		e, _ := firstErr.Load().(error)
		fmt.Printf("idle-server: held %d (mode %s), first error %v\n", held.Load(), args[3], e)
	})
	return nil
}

// idleHolder opens N TCP connections to ADDR, round robin over PORTS
// (plain blocking sockets, so no keepalive: once connected they carry no
// packet at all), prints "connected K failed F", and keeps them open until
// SIGTERM.
func idleHolder(args []string) error {
	if err := wantArgs(args, 3, "idle-holder ADDR PORTS N"); err != nil {
		return err
	}
	addr, err := parseIPv4(args[0])
	if err != nil {
		return err
	}
	ports, err := parsePorts(args[1])
	if err != nil {
		return err
	}
	n, err := parseCount(args[2], maxIdle)
	if err != nil {
		return err
	}
	if err := raiseNofile(uint64(n + 256)); err != nil {
		return err
	}
	start := time.Now()
	deadline := start.Add(connectDeadline)
	var next, ok, failed atomic.Int64
	var mu sync.Mutex
	errs := map[string]int{}
	var fds []int
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for time.Now().Before(deadline) {
				i := next.Add(1) - 1
				if i >= int64(n) {
					return
				}
				fd, err := connectOne(addr, ports[i%int64(len(ports))])
				if err != nil {
					failed.Add(1)
					mu.Lock()
					errs[err.Error()]++
					mu.Unlock()
					if failed.Load() > int64(n/10)+100 {
						return // something is wrong: stop hammering
					}
					continue
				}
				ok.Add(1)
				mu.Lock()
				fds = append(fds, fd)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	fmt.Printf("connected %d failed %d in %v errors %v\n", ok.Load(), failed.Load(), time.Since(start).Round(time.Millisecond), errs)
	harness.UntilTerm(nil)
	return nil
}

func connectOne(addr [4]byte, port int) (int, error) {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, err
	}
	// A blocking connect gives up after SO_SNDTIMEO.
	tv := unix.Timeval{Sec: 5}
	unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_SNDTIMEO, &tv)
	for {
		err = unix.Connect(fd, &unix.SockaddrInet4{Port: port, Addr: addr})
		if !errors.Is(err, unix.EINTR) {
			break
		}
	}
	if err != nil {
		unix.Close(fd)
		return -1, err
	}
	return fd, nil
}

func listenTCP(addr string) (net.Listener, error) {
	lc := net.ListenConfig{KeepAlive: -1}
	return lc.Listen(context.Background(), "tcp4", addr)
}

func dialTCP(addr string, timeout time.Duration) (net.Conn, error) {
	d := net.Dialer{Timeout: timeout, KeepAlive: -1}
	return d.Dial("tcp4", addr)
}

// busySink accepts one connection on ADDR and reads it until EOF or
// SIGTERM.
func busySink(args []string) error {
	if err := wantArgs(args, 1, "busy-sink ADDR"); err != nil {
		return err
	}
	ln, err := listenTCP(args[0])
	if err != nil {
		return err
	}
	var total atomic.Int64
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		ln.Close()
		buf := make([]byte, 256<<10)
		for {
			m, err := c.Read(buf)
			total.Add(int64(m))
			if err != nil {
				return
			}
		}
	}()
	fmt.Println("ready")
	harness.UntilTerm(func() { fmt.Printf("busy-sink: %d bytes\n", total.Load()) })
	return nil
}

// busyClient streams to ADDR at RATE bytes/s in WRITE-byte writes, paced
// on a ticker (the writes due by each tick), for at most MAXDUR; on
// SIGUSR1 it stops writing but keeps the connection open, and it stays
// until SIGTERM.
func busyClient(args []string) error {
	if err := wantArgs(args, 4, "busy-client ADDR RATE WRITE MAXDUR"); err != nil {
		return err
	}
	rate, err := parseCount(args[1], maxRate)
	if err != nil || rate == 0 {
		return fmt.Errorf("bad rate %q", args[1])
	}
	size, err := parseCount(args[2], 1<<20)
	if err != nil || size == 0 {
		return fmt.Errorf("bad write size %q", args[2])
	}
	maxDur, err := time.ParseDuration(args[3])
	if err != nil || maxDur <= 0 || maxDur > roleLifetime {
		return fmt.Errorf("bad max duration %q", args[3])
	}
	var c net.Conn
	for range 50 {
		if c, err = dialTCP(args[0], 2*time.Second); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		return err
	}
	pause := make(chan os.Signal, 1)
	signal.Notify(pause, syscall.SIGUSR1)
	buf := make([]byte, size)
	start := time.Now()
	deadline := start.Add(maxDur)
	interval := time.Duration(float64(size) / float64(rate) * float64(time.Second))
	tick := time.NewTicker(max(interval, time.Millisecond))
	defer tick.Stop()
	var writes int64
	why := "max duration"
	fmt.Println("streaming")
loop:
	for time.Now().Before(deadline) {
		due := int64(time.Since(start).Seconds() * float64(rate) / float64(size))
		for writes < due {
			c.SetWriteDeadline(time.Now().Add(5 * time.Second))
			if _, err := c.Write(buf); err != nil {
				return fmt.Errorf("after %d writes: %w", writes, err)
			}
			writes++
		}
		select {
		case <-pause:
			why = "SIGUSR1"
			break loop
		case <-tick.C:
		}
	}
	took := time.Since(start)
	fmt.Printf("paused (%s) after %d writes of %d bytes in %v (%.2f MB/s)\n",
		why, writes, size, took.Round(time.Millisecond), float64(writes)*float64(size)/took.Seconds()/1e6)
	harness.UntilTerm(nil)
	c.Close()
	return nil
}

// newconnServer accepts on ADDR; per connection it reads 1024 bytes,
// answers one byte and reads until EOF.
func newconnServer(args []string) error {
	if err := wantArgs(args, 3, "newconn-server ADDR SIZE ANSWER"); err != nil {
		return err
	}
	size, err1 := parseCount(args[1], maxMessage)
	answer, err2 := parseCount(args[2], maxMessage)
	if err := errors.Join(err1, err2); err != nil || size == 0 {
		return fmt.Errorf("newconn-server: bad SIZE %q or ANSWER %q", args[1], args[2])
	}
	ln, err := listenTCP(args[0])
	if err != nil {
		return err
	}
	var accepted, answered atomic.Int64
	go func() {
		for accepted.Load() < maxNewConns {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			go func() {
				defer c.Close()
				c.SetDeadline(time.Now().Add(10 * time.Second))
				buf := make([]byte, max(size, answer))
				if _, err := io.ReadFull(c, buf[:size]); err != nil {
					return
				}
				if _, err := c.Write(buf[:answer]); err != nil {
					return
				}
				answered.Add(1)
				io.Copy(io.Discard, c)
			}()
		}
	}()
	fmt.Println("ready")
	harness.UntilTerm(func() { fmt.Printf("newconn-server: accepted %d, answered %d\n", accepted.Load(), answered.Load()) })
	return nil
}

// newconnClient makes RATE connections per second to ADDR for DURATION,
// one every 1/RATE s, each in its own goroutine: connect, send 1024 bytes,
// read the 1-byte answer, keep the connection open for HOLD, close. It
// prints "conn LOCAL-ADDR ok" (or "conn LOCAL-ADDR error ...") per
// connection and "made N ok M" at the end, then stays (so that its
// process still exists at the monitors' last refresh) until SIGTERM. With
// START "signal" it prints "waiting" and waits for SIGUSR1 first.
func newconnClient(args []string) error {
	if err := wantArgs(args, 7, "newconn-client ADDR RATE DURATION HOLD now|signal SIZE ANSWER"); err != nil {
		return err
	}
	switch args[4] {
	case "now":
	case "signal":
		go1 := make(chan os.Signal, 1)
		signal.Notify(go1, syscall.SIGUSR1)
		fmt.Println("waiting")
		<-go1
		signal.Stop(go1)
	default:
		return fmt.Errorf("start %q: now or signal", args[4])
	}
	// A fraction for one container's share (10/s over 50: 0.2).
	rate, err := strconv.ParseFloat(args[1], 64)
	if err != nil || !(rate >= 0.01 && rate <= 1000) {
		return fmt.Errorf("bad rate %q: want connections per second in [0.01, 1000]", args[1])
	}
	dur, err := parseDuration(args[2])
	if err != nil {
		return err
	}
	hold, err := time.ParseDuration(args[3])
	if err != nil || hold < 0 || hold > maxPhase {
		return fmt.Errorf("hold %q: want a duration in [0, %v]", args[3], maxPhase)
	}
	size, err1 := parseCount(args[5], maxMessage)
	answer, err2 := parseCount(args[6], maxMessage)
	if err := errors.Join(err1, err2); err != nil || size == 0 {
		return fmt.Errorf("newconn-client: bad SIZE %q or ANSWER %q", args[5], args[6])
	}
	total := min(maxNewConns, int(rate*dur.Seconds()+1e-9))
	var mu sync.Mutex
	say := func(format string, a ...any) {
		mu.Lock()
		fmt.Printf(format, a...)
		mu.Unlock()
	}
	var ok atomic.Int64
	var wg sync.WaitGroup
	payload := make([]byte, size)
	start := time.Now()
	for i := range total {
		time.Sleep(time.Until(start.Add(time.Duration(float64(i) * float64(time.Second) / rate))))
		wg.Go(func() {
			c, err := dialTCP(args[0], 2*time.Second)
			if err != nil {
				say("conn - error %v\n", err)
				return
			}
			defer c.Close()
			local := c.LocalAddr().String()
			c.SetDeadline(time.Now().Add(hold + 5*time.Second))
			if _, err := c.Write(payload); err != nil {
				say("conn %s error %v\n", local, err)
				return
			}
			b := make([]byte, answer)
			if _, err := io.ReadFull(c, b); err != nil {
				say("conn %s error %v\n", local, err)
				return
			}
			time.Sleep(hold)
			ok.Add(1)
			say("conn %s ok\n", local)
		})
	}
	wg.Wait()
	say("made %d ok %d in %v\n", total, ok.Load(), time.Since(start).Round(time.Millisecond))
	harness.UntilTerm(nil)
	return nil
}

// procsLauncher ADDR N SIZE: starts N client processes one after another
// (one-shot ADDR SIZE: each connects, sends SIZE bytes, reads the answer
// and exits), as a script calling a client in a loop does; prints "pid P"
// for each, then "done N ok K in D", and stays until told to stop.
func procsLauncher(args []string) error {
	if err := wantArgs(args, 3, "procs-launcher ADDR N SIZE"); err != nil {
		return err
	}
	n, err := parseCount(args[1], maxProcs)
	if err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	ok := 0
	start := time.Now()
	for range n {
		c := exec.Command(self, "one-shot", args[0], args[2])
		c.Stderr = os.Stderr
		if err := c.Start(); err != nil {
			return err
		}
		fmt.Printf("pid %d\n", c.Process.Pid)
		if c.Wait() == nil {
			ok++
		}
	}
	fmt.Printf("done %d ok %d in %v\n", n, ok, time.Since(start).Round(time.Millisecond))
	harness.UntilTerm(nil)
	return nil
}

// oneShot ADDR SIZE: one connection, SIZE bytes, the answer, exit.
func oneShot(args []string) error {
	if err := wantArgs(args, 2, "one-shot ADDR SIZE"); err != nil {
		return err
	}
	size, err := parseCount(args[1], maxMessage)
	if err != nil {
		return err
	}
	c, err := dialTCP(args[0], 2*time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Write(make([]byte, size)); err != nil {
		return err
	}
	_, err = io.ReadFull(c, make([]byte, 1))
	return err
}
