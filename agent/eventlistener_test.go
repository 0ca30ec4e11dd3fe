package agent

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/drover-sh/drover/agent/localapi"
)

// TestForwardEvents: process state changes are posted as the API's events,
// other events are acknowledged without a post, and a failed post answers
// FAIL so supervisord sends the event again.
func TestForwardEvents(t *testing.T) {
	event := func(name, payload string) string {
		return fmt.Sprintf("ver:3.0 server:supervisor serial:1 pool:drover-events poolserial:1 eventname:%s len:%d\n%s", name, len(payload), payload)
	}
	in := event("PROCESS_STATE_RUNNING", "processname:daemon-acme-web groupname:daemon-acme-web from_state:STARTING pid:42") +
		event("TICK_5", "when:1700000000") +
		event("PROCESS_STATE_EXITED", "processname:daemon-acme-web groupname:daemon-acme-web from_state:RUNNING expected:0 pid:42")
	var posted []localapi.Event
	var out strings.Builder
	err := ForwardEvents(strings.NewReader(in), &out, func(ev localapi.Event) error {
		posted = append(posted, ev)
		if ev.State == "EXITED" {
			return errors.New("agent away")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []localapi.Event{
		{Group: "daemon-acme-web", Process: "daemon-acme-web", State: "RUNNING", PID: 42},
		{Group: "daemon-acme-web", Process: "daemon-acme-web", State: "EXITED", PID: 42},
	}
	if fmt.Sprint(posted) != fmt.Sprint(want) {
		t.Errorf("posted %+v, want %+v", posted, want)
	}
	if got := out.String(); got != "READY\nRESULT 2\nOKREADY\nRESULT 2\nOKREADY\nRESULT 4\nFAILREADY\n" {
		t.Errorf("answers to supervisord: %q", got)
	}
}
