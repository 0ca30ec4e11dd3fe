package agent

import (
	"io"

	"github.com/drover-sh/drover/agent/localapi"
	"github.com/drover-sh/drover/agent/supervisor"
)

// ForwardEvents is the event listener supervisord starts (`drover
// supervisor-events`): it speaks supervisord's event-listener protocol on
// in and out and hands each PROCESS_STATE change to post, which sends it to
// the agent's API (localapi.Client.PostEvent). When post fails the event is
// answered FAIL, and supervisord sends it again. It returns when in ends.
func ForwardEvents(in io.Reader, out io.Writer, post func(localapi.Event) error) error {
	return supervisor.Listen(in, out, func(ev supervisor.Event) error {
		group, process, state, pid := ev.Process()
		if group == "" {
			return nil // not a process state change
		}
		return post(localapi.Event{Group: group, Process: process, State: state, PID: pid})
	})
}
