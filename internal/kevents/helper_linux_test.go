//go:build linux && !hogs_small

package kevents

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"hogs/internal/netlab"
)

// The live tests run their servers and short-lived clients as separate
// processes (this test binary again, with helperEnv naming the role), so
// that each socket has an owner of its own to find.
const helperEnv = "HOGS_KEVENTS_HELPER"

func TestMain(m *testing.M) {
	if role := os.Getenv(helperEnv); role != "" {
		if err := runHelper(strings.Fields(role)); err != nil {
			fmt.Fprintln(os.Stderr, "helper:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// runHelper plays one role; each prints one line about itself on stdout
// once ready.
func runHelper(args []string) error {
	switch args[0] {
	case "tcp-server": // ADDR ACCEPT-DELAY-MS: echo nothing, read each connection to its end
		ln, err := net.Listen("tcp", args[1])
		if err != nil {
			return err
		}
		delay, _ := strconv.Atoi(args[2])
		fmt.Println(ln.Addr().(*net.TCPAddr).Port)
		for {
			time.Sleep(time.Duration(delay) * time.Millisecond)
			c, err := ln.Accept()
			if err != nil {
				return err
			}
			if delay > 0 {
				fmt.Println("accepted", c.RemoteAddr())
			}
			go func() { io.Copy(io.Discard, c); c.Close() }()
		}
	case "fork-server": // ADDR: hands each connection to a child process, then closes its copy
		ln, err := net.Listen("tcp", args[1])
		if err != nil {
			return err
		}
		fmt.Println(ln.Addr().(*net.TCPAddr).Port)
		for {
			c, err := ln.Accept()
			if err != nil {
				return err
			}
			f, err := c.(*net.TCPConn).File()
			if err != nil {
				return err
			}
			child := exec.Command("/proc/self/exe")
			child.Env = append(os.Environ(), helperEnv+"=fork-child")
			child.ExtraFiles = []*os.File{f}
			child.Stdout = os.Stdout
			if err := child.Start(); err != nil {
				return err
			}
			f.Close()
			c.Close()
			go child.Wait()
		}
	case "fork-child": // fd 3: print the PID, wait, send 3 MB, close
		c, err := net.FileConn(os.NewFile(3, "conn"))
		if err != nil {
			return err
		}
		fmt.Println(os.Getpid())
		time.Sleep(500 * time.Millisecond)
		if _, err := c.Write(make([]byte, 3<<20)); err != nil {
			return err
		}
		return c.Close()
	case "tcp-client": // ADDR: send 20 kB, print the local port, exit
		c, err := net.Dial("tcp", args[1])
		if err != nil {
			return err
		}
		if _, err := c.Write(make([]byte, 20<<10)); err != nil {
			return err
		}
		fmt.Println(c.LocalAddr().(*net.TCPAddr).Port)
		return c.Close()
	case "udp-server": // ADDR: echo each datagram
		pc, err := net.ListenPacket("udp", args[1])
		if err != nil {
			return err
		}
		fmt.Println(pc.LocalAddr().(*net.UDPAddr).Port)
		buf := make([]byte, 2048)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return err
			}
			pc.WriteTo(buf[:n], from)
		}
	case "udp-send": // ADDR: one datagram from an unbound, unconnected socket, then exit
		to, err := net.ResolveUDPAddr("udp", args[1])
		if err != nil {
			return err
		}
		family := syscall.AF_INET
		if to.IP.To4() == nil {
			family = syscall.AF_INET6
		}
		fd, err := syscall.Socket(family, syscall.SOCK_DGRAM, 0)
		if err != nil {
			return err
		}
		var sa syscall.Sockaddr
		if family == syscall.AF_INET {
			s4 := &syscall.SockaddrInet4{Port: to.Port}
			copy(s4.Addr[:], to.IP.To4())
			sa = s4
		} else {
			s6 := &syscall.SockaddrInet6{Port: to.Port}
			copy(s6.Addr[:], to.IP.To16())
			sa = s6
		}
		if err := syscall.Sendto(fd, []byte("hello"), 0, sa); err != nil {
			return err
		}
		local, err := syscall.Getsockname(fd)
		if err != nil {
			return err
		}
		switch l := local.(type) {
		case *syscall.SockaddrInet4:
			fmt.Println(l.Port)
		case *syscall.SockaddrInet6:
			fmt.Println(l.Port)
		}
		return syscall.Close(fd)
	case "hold-events": // open the Attributor, print its kernel object ids, wait to be killed
		a, err := Open(Config{})
		if err != nil {
			return err
		}
		ids, err := objectIDs(a.rec.(*kernelRecords))
		if err != nil {
			return err
		}
		fmt.Println(ids)
		time.Sleep(time.Minute)
		return nil
	case "open-events": // open the Attributor, print why not
		a, err := Open(Config{})
		if err != nil {
			fmt.Println(err)
			return nil
		}
		a.Close()
		fmt.Println("opened")
		return nil
	}
	return fmt.Errorf("unknown role %q", args[0])
}

// helper is a helper process started by a test.
type helper struct {
	proc  *netlab.Proc
	lines *bufio.Scanner
}

// startHelper starts role in namespace ns ("": this one) and returns it
// with its first line of output.
func startHelper(t *testing.T, lab *netlab.Lab, ns, role string) (*helper, string) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe)
	if ns != "" {
		cmd = exec.Command("ip", "netns", "exec", ns, exe)
	}
	return startHelperCmd(t, lab, role, cmd)
}

// startHelperCmd starts cmd, this test binary, as role.
func startHelperCmd(t *testing.T, lab *netlab.Lab, role string, cmd *exec.Cmd) (*helper, string) {
	t.Helper()
	cmd.Env = append(os.Environ(), helperEnv+"="+role)
	r, w := io.Pipe()
	p, err := lab.Start(role, cmd, w, os.Stderr)
	if err != nil {
		t.Fatal(err)
	}
	h := &helper{proc: p, lines: bufio.NewScanner(r)}
	t.Cleanup(func() { p.Stop(time.Second); w.Close() })
	return h, h.line(t)
}

// line reads the helper's next line of output, failing after 10 s.
func (h *helper) line(t *testing.T) string {
	t.Helper()
	got := make(chan string, 1)
	go func() {
		if h.lines.Scan() {
			got <- h.lines.Text()
		}
		close(got)
	}()
	select {
	case s, ok := <-got:
		if !ok {
			t.Fatalf("helper %s ended without a line: %s", h.proc.Name, h.proc.Status())
		}
		return s
	case <-time.After(10 * time.Second):
		t.Fatalf("helper %s printed nothing in 10 s", h.proc.Name)
	}
	return ""
}

// port parses a helper's port line.
func port(t *testing.T, s string) uint16 {
	t.Helper()
	n, err := strconv.ParseUint(s, 10, 16)
	if err != nil {
		t.Fatalf("helper printed %q, not a port", s)
	}
	return uint16(n)
}
