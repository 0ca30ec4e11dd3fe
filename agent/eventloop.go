package agent

import (
	"context"
	"time"

	"github.com/drover-sh/drover/agent/localapi"
)

// eventQueue bounds the events waiting for eventLoop; a burst beyond it
// (thousands of programs starting at once) is dropped and answered 503, and
// the listener sends those events again.
const eventQueue = 8192

// eventBatch is how long eventLoop gathers events before handling them.
const eventBatch = 200 * time.Millisecond

// eventLoop hands queued events to the reconciler in batches: one
// getProcessInfo multicall and one store write per batch, however many
// events it holds.
func (a *Agent) eventLoop(ctx context.Context) {
	for {
		var batch []localapi.Event
		select {
		case <-ctx.Done():
			return
		case ev := <-a.events:
			batch = append(batch, ev)
		}
		timer := time.After(eventBatch)
	gather:
		for {
			select {
			case ev := <-a.events:
				batch = append(batch, ev)
			case <-timer:
				break gather
			case <-ctx.Done():
				return
			}
		}
		a.rec.ProcessEvents(ctx, batch)
	}
}
