package network

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vishvananda/netns"

	"github.com/drover-sh/drover/netstate"
)

// helperEnv makes the test binary act as a network client instead of
// running tests (see TestMain): bind_test.go starts it as a tenant's uid
// inside a namespace.
const helperEnv = "DROVER_NETTEST_HELPER"

func TestMain(m *testing.M) {
	if mode := os.Getenv(helperEnv); mode != "" {
		fmt.Println(netHelper(mode, os.Getenv("SRC"), os.Getenv("DST")))
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// netHelper connects (tcp) or sends a datagram (udp) from src to dst and
// returns "ok" or "ERR <errno name>: <error>".
func netHelper(mode, src, dst string) string {
	var err error
	switch mode {
	case "tcp":
		var c net.Conn
		d := net.Dialer{Timeout: 3 * time.Second, LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}}
		c, err = d.Dial("tcp", dst)
		if err == nil {
			c.SetDeadline(time.Now().Add(3 * time.Second))
			var line string
			line, err = bufio.NewReader(c).ReadString('\n')
			c.Close()
			if err == nil && line != "hello\n" {
				err = fmt.Errorf("read %q", line)
			}
		}
	case "udp":
		var c *net.UDPConn
		c, err = net.DialUDP("udp", &net.UDPAddr{IP: net.ParseIP(src)}, net.UDPAddrFromAddrPort(mustAddrPort(dst)))
		if err == nil {
			_, err = c.Write([]byte("hello"))
			c.Close()
		}
	default:
		err = fmt.Errorf("unknown helper mode %q", mode)
	}
	if err == nil {
		return "ok"
	}
	var errno syscall.Errno
	if errors.As(err, &errno) {
		return fmt.Sprintf("ERR %s: %v", errnoName(errno), err)
	}
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		return fmt.Sprintf("ERR timeout: %v", err)
	}
	return fmt.Sprintf("ERR other: %v", err)
}

func errnoName(e syscall.Errno) string {
	switch e {
	case syscall.EPERM:
		return "EPERM"
	case syscall.EACCES:
		return "EACCES"
	case syscall.ECONNREFUSED:
		return "ECONNREFUSED"
	case syscall.EHOSTUNREACH:
		return "EHOSTUNREACH"
	case syscall.ENETUNREACH:
		return "ENETUNREACH"
	case syscall.EADDRNOTAVAIL:
		return "EADDRNOTAVAIL"
	}
	return fmt.Sprintf("errno %d", int(e))
}

func mustAddrPort(s string) netip.AddrPort {
	ap, err := netip.ParseAddrPort(s)
	if err != nil {
		panic(err)
	}
	return ap
}

// inNamespace runs fn on an OS thread switched into ns: sockets it opens
// and processes it starts live in ns. The thread goes back to the pool only
// if it could be switched back.
func inNamespace(ns netns.NsHandle, fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := netns.Get()
		if err != nil {
			errc <- err
			return
		}
		defer orig.Close()
		if err := netns.Set(ns); err != nil {
			errc <- err
			return
		}
		err = fn()
		if netns.Set(orig) == nil {
			runtime.UnlockOSThread()
		}
		errc <- err
	}()
	return <-errc
}

// helperBinary copies the test binary where any uid can run it.
func helperBinary(t *testing.T) string {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "drover-nettest-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	in, err := os.Open(self)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	bin := filepath.Join(dir, "nethelper")
	out, err := os.OpenFile(bin, os.O_CREATE|os.O_WRONLY, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	return bin
}

// waitDAD waits until no address of the namespace is tentative: the
// transit address gets duplicate address detection (tenant addresses are
// nodad), and a tentative address receives nothing.
func waitDAD(t *testing.T, ns string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for strings.TrimSpace(inNetns(t, ns, "ip", "-6", "addr", "show", "tentative")) != "" {
		if time.Now().After(deadline) {
			t.Fatalf("addresses still tentative:\n%s", inNetns(t, ns, "ip", "-6", "addr", "show", "tentative"))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestBindIsolation programs a namespace and checks with real sockets who
// may use a tenant's address: its tenant and system users may, other
// tenants and other non-system users may not.
func TestBindIsolation(t *testing.T) {
	ns, h := rootNetns(t)
	l := newLinux(t, h)
	s := state([]netstate.Tenant{acme, bravo}, route2, route3)
	apply(t, l, s)
	waitDAD(t, ns)
	bin := helperBinary(t)

	// A listener of root on every address of the namespace.
	var ln net.Listener
	must(t, inNamespace(h, func() (err error) {
		ln, err = net.Listen("tcp", "[::]:7777")
		return err
	}))
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Write([]byte("hello\n"))
			c.Close()
		}
	}()

	// client runs the helper as uid inside the namespace.
	client := func(mode string, uid uint32, src, dst string) string {
		t.Helper()
		cmd := exec.Command(bin, "-test.run=^$")
		cmd.Env = []string{helperEnv + "=" + mode, "SRC=" + src, "DST=" + dst}
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uid, Gid: uid, Groups: []uint32{}}}
		var out strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &out
		must(t, inNamespace(h, cmd.Start))
		if err := cmd.Wait(); err != nil {
			t.Fatalf("helper as uid %d: %v\n%s", uid, err, out.String())
		}
		return strings.TrimSpace(out.String())
	}

	transit := "[fd00:5ccd::1]:7777"
	acmeAddr, bravoAddr := acme.Addr.String(), bravo.Addr.String()
	for _, tc := range []struct {
		name     string
		mode     string
		uid      uint32
		src, dst string
		want     string // "ok" or the prefix of the error
	}{
		{"tenant from its address", "tcp", acme.UID, acmeAddr, transit, "ok"},
		{"other tenant from its own address", "tcp", bravo.UID, bravoAddr, transit, "ok"},
		{"www-data from a tenant address", "tcp", 33, acmeAddr, transit, "ok"},
		{"root from a tenant address", "tcp", 0, acmeAddr, transit, "ok"},
		{"tenant from a non-tenant address", "tcp", acme.UID, "fd00:5ccd::1", "[::1]:7777", "ok"},
		{"tenant to another tenant's address", "tcp", acme.UID, acmeAddr, "[" + bravoAddr + "]:7777", "ok"},
		{"other tenant from a tenant address", "tcp", bravo.UID, acmeAddr, transit, "ERR EACCES"},
		{"non-tenant user from a tenant address", "tcp", 20000, acmeAddr, transit, "ERR EACCES"},
		{"other tenant to a tenant address, no bind", "tcp", bravo.UID, "", "[" + acmeAddr + "]:7777", "ERR EACCES"},
		{"other tenant, udp from a tenant address", "udp", bravo.UID, acmeAddr, transit, "ERR EPERM"},
		{"tenant, udp from its address", "udp", acme.UID, acmeAddr, transit, "ok"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := client(tc.mode, tc.uid, tc.src, tc.dst)
			if !strings.HasPrefix(got, tc.want) {
				t.Errorf("%s as uid %d from [%s] to %s: %s, want %s", tc.mode, tc.uid, tc.src, tc.dst, got, tc.want)
			}
		})
	}

	// Without drover's table, the other tenant gets through: the test can
	// tell the table's effect apart.
	must(t, l.Remove(ctx, "drover", s.Managed()))
	apply(t, l, s) // addresses back, table back…
	must(t, l.lm.deleteTable("drover"))
	waitDAD(t, ns)
	if got := client("tcp", bravo.UID, acmeAddr, transit); got != "ok" {
		t.Errorf("without the table, other tenant from a tenant address: %s, want ok", got)
	}
}
