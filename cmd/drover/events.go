package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/spf13/pflag"

	"github.com/drover-sh/drover/agent"
	"github.com/drover-sh/drover/agent/localapi"
)

func init() {
	var socket string
	register(&command{
		name:    "supervisor-events",
		args:    "--socket PATH",
		summary: "supervisord event listener forwarding process state changes to the agent.",
		hidden:  true,
		help: `supervisord starts this as [eventlistener:drover-events] (see the rendered
drover-events.conf). It speaks the event-listener protocol on stdin/stdout and
posts every PROCESS_STATE change to the agent's API socket, so the agent never
polls every process. While the agent cannot take an event (it is restarting,
say), the listener waits a second and answers FAIL: supervisord keeps the
event in its buffer (1,024 events) and sends it again.`,
		flags: func(fs *pflag.FlagSet) { fs.StringVar(&socket, "socket", "", "the agent's API socket `PATH`") },
		run: func(env *cmdEnv, fs *pflag.FlagSet, args []string) int {
			if socket == "" || len(args) > 0 {
				return usageError(env, fs, "--socket is required")
			}
			c := localapi.NewClient(socket)
			err := agent.ForwardEvents(os.Stdin, os.Stdout, func(ev localapi.Event) error {
				err := c.PostEvent(context.Background(), ev)
				if err != nil {
					fmt.Fprintf(env.stderr, "drover supervisor-events: %v; supervisord will send the event again\n", err)
					time.Sleep(time.Second) // no busy loop while the agent is away
				}
				return err
			})
			if err != nil {
				fmt.Fprintf(env.stderr, "drover supervisor-events: %v\n", err)
				return exitFailure
			}
			return exitOK
		},
	})
}
