package pool

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/memberlist"
)

// These tests run real memberlist pools on 127.0.0.1, each on a port of its
// own.

var testKey = []byte("0123456789abcdef0123456789abcdef")

// logBuf is a goroutine-safe log sink.
type logBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startPool starts a pool named name on a free loopback port; its info log
// goes to the returned buffer. The test closes it.
func startPool(t testing.TB, name string, key []byte) (*Pool, *logBuf) {
	t.Helper()
	lb := &logBuf{}
	p, err := Start(Config{
		Node: name, Bind: "127.0.0.1:0", Key: key,
		Log: slog.New(slog.NewTextHandler(lb, &slog.HandlerOptions{Level: slog.LevelInfo})),
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p, lb
}

// shardOf is the shard of the pools, each at its address.
func shardOf(pools ...*Pool) []Peer {
	var ps []Peer
	for _, p := range pools {
		ps = append(ps, Peer{Name: p.cfg.Node, Addr: p.Addr()})
	}
	return ps
}

// statesOf is "name state" of each member, space-separated.
func statesOf(p *Pool) string {
	var s []string
	for _, m := range p.Members() {
		s = append(s, m.Name+"="+m.State.String())
	}
	return strings.Join(s, " ")
}

// waitFor polls cond every 50ms until it holds or d passes.
func waitFor(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	end := time.Now().Add(d)
	for !cond() {
		if time.Now().After(end) {
			t.Fatalf("%s: not within %s", what, d)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// crash stops p as a crash would: no leave message, its sockets close.
func crash(p *Pool) {
	p.closed.Do(func() {
		close(p.done)
		p.loops.Wait()
		p.ml.Shutdown()
		p.joins.Wait()
	})
}

// TestThreePools: three pools given only the shard join each other (nobody
// calls Join: the pings find the peers), see each other alive with quorum;
// a crashed member turns suspect, then dead, and quorum still holds with
// two of three; Close leaves no goroutine behind.
func TestThreePools(t *testing.T) {
	before := runtime.NumGoroutine()
	var changes sync.Map
	var pools []*Pool
	for _, name := range []string{"n1", "n2", "n3"} {
		p, err := Start(Config{Node: name, Bind: "127.0.0.1:0", Key: testKey, Log: slog.New(slog.DiscardHandler)}, func() {
			n, _ := changes.LoadOrStore(name, new(int))
			*n.(*int)++
		})
		if err != nil {
			t.Fatal(err)
		}
		pools = append(pools, p)
	}
	for _, p := range pools {
		p.SetShard(shardOf(pools...))
	}
	for _, p := range pools {
		waitFor(t, 10*time.Second, p.cfg.Node+" sees all alive", func() bool {
			ok, _ := p.Quorum()
			return ok && statesOf(p) == "n1=alive n2=alive n3=alive"
		})
	}
	if _, ok := changes.Load("n1"); !ok {
		t.Error("changed was never called")
	}

	crash(pools[2])
	sawSuspect := false
	waitFor(t, 20*time.Second, "n1 sees n3 dead", func() bool {
		s := statesOf(pools[0])
		sawSuspect = sawSuspect || strings.Contains(s, "n3=suspect")
		return s == "n1=alive n2=alive n3=dead"
	})
	if !sawSuspect {
		t.Error("n3 went dead without being suspect first")
	}
	if ok, until := pools[0].Quorum(); !ok || time.Until(until) > DefaultQuorumWindow {
		t.Errorf("n1 with n2 alive: Quorum() = %t, until in %s", ok, time.Until(until))
	}
	if s := pools[0].Stats(); s.Alive != 2 || s.Dead != 1 || !s.Quorum || s.PingFailures == 0 {
		t.Errorf("n1 Stats() = %+v", s)
	}

	for _, p := range pools {
		if err := p.Close(); err != nil {
			t.Error(err)
		}
	}
	waitFor(t, 5*time.Second, "goroutines of the pools end", func() bool {
		return runtime.NumGoroutine() <= before
	})
}

// TestHealAfterPartition: two pools cut from each other declare each
// other dead, and memberlist forgets the dead and stops gossiping to them;
// memberlist's periodic state exchange is off here, so when the network
// heals only the pool's joins (to the peers answering its pings) bring
// them together again.
func TestHealAfterPartition(t *testing.T) {
	var cut atomic.Bool
	start := func(name string) *Pool {
		t.Helper()
		p, err := Start(Config{Node: name, Bind: "127.0.0.1:0", Key: testKey, Log: slog.New(slog.DiscardHandler),
			tune: func(mc *memberlist.Config) error {
				nt, err := memberlist.NewNetTransport(&memberlist.NetTransportConfig{BindAddrs: []string{mc.BindAddr}, Logger: mc.Logger})
				if err != nil {
					return err
				}
				mc.BindPort, mc.AdvertisePort = nt.GetAutoBindPort(), nt.GetAutoBindPort()
				mc.Transport = &cuttable{nt, &cut}
				mc.GossipToTheDeadTime = time.Second
				mc.PushPullInterval = 0
				return nil
			}}, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { p.Close() })
		return p
	}
	a, b := start("a"), start("b")
	a.SetShard(shardOf(a, b))
	b.SetShard(shardOf(a, b))
	both := func(want string) func() bool {
		return func() bool { return statesOf(a) == want && statesOf(b) == want }
	}
	waitFor(t, 10*time.Second, "a and b alive", both("a=alive b=alive"))

	cut.Store(true)
	waitFor(t, 20*time.Second, "a and b dead to each other", func() bool {
		return statesOf(a) == "a=alive b=dead" && statesOf(b) == "a=dead b=alive"
	})
	waitFor(t, 10*time.Second, "memberlist forgets the dead", func() bool {
		return len(a.ml.Members()) == 1 && a.ml.NumMembers() == 1 && len(b.ml.Members()) == 1
	})
	time.Sleep(3 * time.Second) // past GossipToTheDeadTime, and the reaping

	cut.Store(false)
	waitFor(t, 15*time.Second, "a and b alive again", both("a=alive b=alive"))
}

// cuttable is memberlist's transport with a switch that drops everything
// it sends.
type cuttable struct {
	*memberlist.NetTransport
	cut *atomic.Bool
}

func (c *cuttable) WriteTo(b []byte, addr string) (time.Time, error) {
	if c.cut.Load() {
		return time.Now(), nil
	}
	return c.NetTransport.WriteTo(b, addr)
}

func (c *cuttable) WriteToAddress(b []byte, a memberlist.Address) (time.Time, error) {
	if c.cut.Load() {
		return time.Now(), nil
	}
	return c.NetTransport.WriteToAddress(b, a)
}

func (c *cuttable) DialTimeout(addr string, timeout time.Duration) (net.Conn, error) {
	if c.cut.Load() {
		return nil, errors.New("cut")
	}
	return c.NetTransport.DialTimeout(addr, timeout)
}

func (c *cuttable) DialAddressTimeout(a memberlist.Address, timeout time.Duration) (net.Conn, error) {
	if c.cut.Load() {
		return nil, errors.New("cut")
	}
	return c.NetTransport.DialAddressTimeout(a, timeout)
}

// TestWrongKey: a pool with another key cannot join (its join fails and
// the others never list it), even under a configured name.
func TestWrongKey(t *testing.T) {
	a, _ := startPool(t, "a", testKey)
	b, _ := startPool(t, "b", testKey)
	c, _ := startPool(t, "c", []byte("another key of thirty-two bytes!"))
	for _, p := range []*Pool{a, b, c} {
		p.SetShard(shardOf(a, b, c))
	}
	waitFor(t, 10*time.Second, "a and b see each other", func() bool {
		return statesOf(a) == "a=alive b=alive c=unknown" && statesOf(b) == "a=alive b=alive c=unknown"
	})
	if _, err := c.ml.Join([]string{a.Addr()}); err == nil {
		t.Error("c joined a with another key")
	}
	time.Sleep(3 * time.Second)
	if s := statesOf(a); s != "a=alive b=alive c=unknown" {
		t.Errorf("a: %s", s)
	}
	if s := statesOf(c); s != "a=unknown b=unknown c=alive" {
		t.Errorf("c: %s", s)
	}
	if ok, _ := c.Quorum(); ok {
		t.Error("c has quorum without anyone's ack")
	}
}

// TestStranger: a node with the key but a name the shard does not have is
// ignored, with one log line, whether it joins directly (merge refused) or
// is announced by a member that has it configured (alive refused).
func TestStranger(t *testing.T) {
	a, alog := startPool(t, "a", testKey)
	b, _ := startPool(t, "b", testKey)
	s, _ := startPool(t, "stranger", testKey)
	a.SetShard(shardOf(a, b))
	b.SetShard(shardOf(a, b, s)) // b was told of the stranger, a not
	s.SetShard(shardOf(a, s))
	waitFor(t, 10*time.Second, "b sees all", func() bool { return statesOf(b) == "a=alive b=alive stranger=alive" })
	for range 2 { // a refuses to merge the stranger's state
		s.ml.Join([]string{a.Addr()})
	}
	time.Sleep(2 * time.Second) // gossip from b about the stranger reaches a
	if st := statesOf(a); st != "a=alive b=alive" {
		t.Errorf("a: %s", st)
	}
	for _, n := range a.ml.Members() {
		if n.Name == "stranger" {
			t.Error("a's memberlist lists the stranger")
		}
	}
	if n := strings.Count(alog.String(), "ignoring pool member not in the configuration"); n != 1 {
		t.Errorf("a logged %d lines about the stranger, want 1:\n%s", n, alog)
	}
	if !strings.Contains(alog.String(), "member=stranger") {
		t.Errorf("a's log does not name the stranger:\n%s", alog)
	}
	if st := a.Stats(); st.Refused < 2 {
		t.Errorf("a refused %d times, want at least 2", st.Refused)
	}
}

// TestStartErrors: the key and the addresses are checked.
func TestStartErrors(t *testing.T) {
	for _, c := range []struct {
		cfg  Config
		want string
	}{
		{Config{Node: "a", Bind: "127.0.0.1:0"}, "the key is 0 bytes"},
		{Config{Node: "a", Bind: "127.0.0.1:0", Key: []byte("short")}, "the key is 5 bytes"},
		{Config{Bind: "127.0.0.1:0", Key: testKey}, "no node name"},
		{Config{Node: "a", Bind: "127.0.0.1", Key: testKey}, `bind address "127.0.0.1"`},
		{Config{Node: "a", Bind: "127.0.0.1:0", Advertise: "127.0.0.1:x", Key: testKey}, `advertise address "127.0.0.1:x"`},
	} {
		p, err := Start(c.cfg, nil)
		if err == nil {
			p.Close()
			t.Errorf("%+v: started", c.cfg)
		} else if !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want %q", c.cfg, err, c.want)
		}
	}
}

func ExampleState() {
	fmt.Println(Alive, Suspect, Dead, Unknown)
	// Output: alive suspect dead unknown
}
