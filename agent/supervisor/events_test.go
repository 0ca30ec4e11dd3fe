package supervisor

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
)

// eventText is an event as supervisord writes it: header line, then len
// bytes of payload.
func eventText(serial int, name, payload string) string {
	return fmt.Sprintf("ver:3.0 server:supervisor serial:%d pool:listener poolserial:%d eventname:%s len:%d\n%s",
		serial, serial-10, name, len(payload), payload)
}

var streamEvents = []struct{ name, payload string }{
	{"PROCESS_STATE_RUNNING", "processname:cat groupname:cat from_state:STARTING pid:2766"},
	{"PROCESS_STATE_EXITED", "processname:web_00 groupname:web from_state:RUNNING expected:0 pid:12"},
	{"PROCESS_LOG_STDOUT", "processname:cat groupname:cat pid:2766 channel:stdout\nline one\nkey:value with spaces\n"},
	{"PROCESS_STATE_FATAL", "processname:bad groupname:bad from_state:BACKOFF"},
}

func TestListenStream(t *testing.T) {
	var in strings.Builder
	for i, e := range streamEvents {
		in.WriteString(eventText(21+i, e.name, e.payload))
	}
	var got []Event
	var out bytes.Buffer
	// One byte per read: every header and payload arrives in pieces.
	err := Listen(iotest.OneByteReader(strings.NewReader(in.String())), &out, func(e Event) error {
		got = append(got, e)
		if e.Name == "PROCESS_STATE_EXITED" {
			return errors.New("cannot handle it now")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := "READY\nRESULT 2\nOKREADY\nRESULT 4\nFAILREADY\nRESULT 2\nOKREADY\nRESULT 2\nOKREADY\n"; out.String() != want {
		t.Errorf("listener wrote %q, want %q", out.String(), want)
	}
	if len(got) != len(streamEvents) {
		t.Fatalf("got %d events", len(got))
	}
	wantHeader := map[string]string{"ver": "3.0", "server": "supervisor", "serial": "21", "pool": "listener", "poolserial": "11", "eventname": "PROCESS_STATE_RUNNING", "len": "58"}
	if !reflect.DeepEqual(got[0].Header, wantHeader) {
		t.Errorf("header %v", got[0].Header)
	}
	type proc struct {
		group, name, state string
		pid                int
	}
	procs := []proc{{"cat", "cat", "RUNNING", 2766}, {"web", "web_00", "EXITED", 12}, {}, {"bad", "bad", "FATAL", 0}}
	for i, e := range got {
		if e.Name != streamEvents[i].name {
			t.Errorf("event %d is %s", i, e.Name)
		}
		var p proc
		p.group, p.name, p.state, p.pid = e.Process()
		if p != procs[i] {
			t.Errorf("%s: Process() = %+v, want %+v", e.Name, p, procs[i])
		}
	}
	if got[1].Payload["expected"] != "0" || got[1].Payload["from_state"] != "RUNNING" || got[1].Data != nil {
		t.Errorf("EXITED payload %v data %q", got[1].Payload, got[1].Data)
	}
	if got[2].Payload["channel"] != "stdout" || string(got[2].Data) != "line one\nkey:value with spaces\n" {
		t.Errorf("LOG payload %v data %q", got[2].Payload, got[2].Data)
	}
}

// supervisord sends nothing until the listener says READY; this plays
// supervisord over pipes, sending each event in two pieces.
func TestListenConversation(t *testing.T) {
	toListener, fromSupervisor := io.Pipe()
	fromListener, toSupervisor := io.Pipe()
	done := make(chan error, 1)
	var names []string
	go func() {
		done <- Listen(toListener, toSupervisor, func(e Event) error {
			names = append(names, e.Name)
			return nil
		})
		toSupervisor.Close()
	}()
	r := bufio.NewReader(fromListener)
	expect := func(want string) {
		t.Helper()
		buf := make([]byte, len(want))
		if _, err := io.ReadFull(r, buf); err != nil || string(buf) != want {
			t.Fatalf("listener wrote %q (%v), want %q", buf, err, want)
		}
	}
	for i, e := range streamEvents {
		expect("READY\n")
		text := eventText(30+i, e.name, e.payload)
		half := len(text) / 2
		fromSupervisor.Write([]byte(text[:half]))
		fromSupervisor.Write([]byte(text[half:]))
		expect("RESULT 2\nOK")
	}
	expect("READY\n")
	fromSupervisor.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if len(names) != len(streamEvents) {
		t.Errorf("handled %q", names)
	}
}

func TestListenErrors(t *testing.T) {
	ok := eventText(1, "PROCESS_STATE_RUNNING", "processname:a groupname:a from_state:STARTING pid:1")
	second := eventText(2, "PROCESS_STATE_RUNNING", "processname:a groupname:a from_state:STARTING pid:1")
	tests := []struct {
		name, in, err string
	}{
		{"header cut short", ok + "ver:3.0 eventname:X", "header \"ver:3.0 eventname:X\" cut short: unexpected EOF"},
		{"payload cut short", ok + second[:len(second)-5], "payload of PROCESS_STATE_RUNNING: unexpected EOF"},
		{"no len", "ver:3.0 eventname:TICK_5\n", "bad len"},
		{"negative len", "eventname:TICK_5 len:-1\n", "bad len"},
		{"no eventname", "ver:3.0 len:0\n", "no eventname"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Listen(strings.NewReader(tt.in), io.Discard, func(Event) error { return nil })
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("error %v, want one containing %q", err, tt.err)
			}
		})
	}
	werr := errors.New("stdout closed")
	err := Listen(strings.NewReader(ok), failingWriter{werr}, func(Event) error { return nil })
	if !errors.Is(err, werr) {
		t.Errorf("write error %v", err)
	}
}

type failingWriter struct{ err error }

func (w failingWriter) Write([]byte) (int, error) { return 0, w.err }
