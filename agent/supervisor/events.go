package supervisor

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Event is one notification supervisord sent an event listener.
type Event struct {
	Name    string            // the eventname header, e.g. PROCESS_STATE_RUNNING
	Header  map[string]string // ver, server, serial, pool, poolserial, eventname, len
	Payload map[string]string // the key:value pairs on the payload's first line
	// Data is the payload after its first line: the output of PROCESS_LOG_*
	// and PROCESS_COMMUNICATION_* events; nil for the others.
	Data []byte
}

// Process returns the process a PROCESS_STATE_* event is about and the
// state it entered (RUNNING for PROCESS_STATE_RUNNING); pid is 0 unless the
// payload carries one (RUNNING, STOPPING, STOPPED, EXITED). For other events all are
// zero.
func (e Event) Process() (group, name, state string, pid int) {
	state, ok := strings.CutPrefix(e.Name, "PROCESS_STATE_")
	if !ok {
		return "", "", "", 0
	}
	pid, _ = strconv.Atoi(e.Payload["pid"])
	return e.Payload["groupname"], e.Payload["processname"], state, pid
}

// maxEventLen bounds an event's payload; supervisord's are at most a few
// kilobytes (PROCESS_LOG events carry one chunk of output).
const maxEventLen = 16 << 20

// Listen speaks supervisord's event-listener protocol as the listener
// process: r is its stdin and w its stdout (which belongs to the protocol:
// nothing else may be written there). For every event it calls handle and
// answers OK, or FAIL when handle returns an error, in which case
// supervisord buffers the event and sends it again later. Listen returns nil
// when r ends between events, and an error on a protocol violation or a
// failed write. If w has a Flush method it is called after every message.
func Listen(r io.Reader, w io.Writer, handle func(Event) error) error {
	br := bufio.NewReader(r)
	for {
		if err := send(w, "READY\n"); err != nil {
			return err
		}
		line, err := br.ReadString('\n')
		if err == io.EOF && line == "" {
			return nil
		}
		if err == io.EOF {
			return fmt.Errorf("event listener: header %q cut short: %w", line, io.ErrUnexpectedEOF)
		}
		if err != nil {
			return fmt.Errorf("event listener: reading header: %w", err)
		}
		header := pairs(strings.TrimSuffix(line, "\n"))
		n, err := strconv.Atoi(header["len"])
		if err != nil || n < 0 || n > maxEventLen {
			return fmt.Errorf("event listener: bad len in header %q", line)
		}
		if header["eventname"] == "" {
			return fmt.Errorf("event listener: no eventname in header %q", line)
		}
		// Read as the bytes arrive: a header's len alone allocates nothing.
		payload, err := io.ReadAll(io.LimitReader(br, int64(n)))
		if err == nil && len(payload) < n {
			err = io.ErrUnexpectedEOF
		}
		if err != nil {
			return fmt.Errorf("event listener: reading %d-byte payload of %s: %w", n, header["eventname"], err)
		}
		ev := Event{Name: header["eventname"], Header: header}
		first, rest, more := bytes.Cut(payload, []byte("\n"))
		ev.Payload = pairs(string(first))
		if more {
			ev.Data = rest
		}
		result := "RESULT 2\nOK"
		if handle(ev) != nil {
			result = "RESULT 4\nFAIL"
		}
		if err := send(w, result); err != nil {
			return err
		}
	}
}

func send(w io.Writer, msg string) error {
	if _, err := io.WriteString(w, msg); err != nil {
		return fmt.Errorf("event listener: writing %q: %w", msg, err)
	}
	if f, ok := w.(interface{ Flush() error }); ok {
		if err := f.Flush(); err != nil {
			return fmt.Errorf("event listener: writing %q: %w", msg, err)
		}
	}
	return nil
}

// pairs parses space-separated key:value tokens; a value may contain ':'.
func pairs(s string) map[string]string {
	m := map[string]string{}
	for _, tok := range strings.Fields(s) {
		k, v, _ := strings.Cut(tok, ":")
		m[k] = v
	}
	return m
}
