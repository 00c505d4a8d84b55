package conntrack

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"hogs/internal/netlab"
)

// The live tests' servers and clients are separate processes (this test
// binary again, with helperEnv naming the role) in the namespaces the
// test made.
const helperEnv = "HOGS_CONNTRACK_HELPER"

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

// runHelper plays one role. Servers print "ready" once listening and answer
// each connection or datagram with the address they see it from; clients
// print their own address and the one the server saw, then exit.
func runHelper(args []string) error {
	if len(args) != 2 {
		return fmt.Errorf("want ROLE ADDR, got %q", args)
	}
	switch args[0] {
	case "tcp-server":
		ln, err := net.Listen("tcp", args[1])
		if err != nil {
			return err
		}
		fmt.Println("ready")
		for {
			c, err := ln.Accept()
			if err != nil {
				return err
			}
			go func() {
				defer c.Close()
				fmt.Fprintln(c, c.RemoteAddr())
				io.Copy(io.Discard, c)
			}()
		}
	case "udp-server":
		pc, err := net.ListenPacket("udp", args[1])
		if err != nil {
			return err
		}
		fmt.Println("ready")
		buf := make([]byte, 2048)
		for {
			_, from, err := pc.ReadFrom(buf)
			if err != nil {
				return err
			}
			pc.WriteTo([]byte(from.String()+"\n"), from)
		}
	case "get", "get-without-net-admin": // SRC: ask this namespace's table for TCP SRC → 192.0.2.1:9, print the error
		runtime.LockOSThread() // capabilities are per thread: open and ask on this one
		if args[0] == "get-without-net-admin" {
			if err := dropNetAdmin(); err != nil {
				return err
			}
		}
		c, err := Open()
		if err != nil {
			return err
		}
		_, err = c.Get(Tuple{Proto: 6, Src: netip.MustParseAddrPort(args[1]), Dst: netip.MustParseAddrPort("192.0.2.1:9")})
		fmt.Println(err)
		return nil
	case "tcp-client", "udp-client":
		network := strings.TrimSuffix(args[0], "-client")
		c, err := net.DialTimeout(network, args[1], 5*time.Second)
		if err != nil {
			return err
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(5 * time.Second))
		if _, err := c.Write(make([]byte, 1000)); err != nil {
			return err
		}
		seen, err := bufio.NewReader(c).ReadString('\n')
		if err != nil {
			return err
		}
		fmt.Println(c.LocalAddr(), strings.TrimSpace(seen))
		return nil
	}
	return fmt.Errorf("unknown role %q", args[0])
}

func helperCmd(ctx context.Context, ns, role string) *exec.Cmd {
	exe, err := os.Executable()
	if err != nil {
		panic(err)
	}
	cmd := exec.CommandContext(ctx, "ip", "netns", "exec", ns, exe)
	cmd.Env = append(os.Environ(), helperEnv+"="+role)
	return cmd
}

// startServer starts a server role in namespace ns and waits until it
// listens; the lab kills it.
func startServer(t testing.TB, lab *netlab.Lab, ns, role string) {
	t.Helper()
	pr, pw := io.Pipe()
	if _, err := lab.Start(role, helperCmd(context.Background(), ns, role), pw, os.Stderr); err != nil {
		t.Fatal(err)
	}
	ready := make(chan error, 1)
	go func() {
		line, err := bufio.NewReader(pr).ReadString('\n')
		if err == nil && line != "ready\n" {
			err = fmt.Errorf("said %q", line)
		}
		ready <- err
		io.Copy(io.Discard, pr)
	}()
	select {
	case err := <-ready:
		if err != nil {
			t.Fatalf("%s in %s: %v", role, ns, err)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("%s in %s: not ready after 10 s", role, ns)
	}
}

// runClient runs a client role in namespace ns and returns its own
// address and the address the server saw it from.
func runClient(t testing.TB, ns, role string) (local, seen string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	cmd := helperCmd(ctx, ns, role)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s in %s: %v", role, ns, err)
	}
	f := strings.Fields(string(out))
	if len(f) != 2 {
		t.Fatalf("%s in %s printed %q", role, ns, out)
	}
	return f[0], f[1]
}

// dropNetAdmin takes CAP_NET_ADMIN out of the calling thread's effective
// and permitted sets, as a container started with Docker's default
// capabilities lacks it.
func dropNetAdmin() error {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		return err
	}
	data[0].Effective &^= 1 << unix.CAP_NET_ADMIN
	data[0].Permitted &^= 1 << unix.CAP_NET_ADMIN
	return unix.Capset(&hdr, &data[0])
}
