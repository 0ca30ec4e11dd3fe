package supervisor

import (
	"context"
	"fmt"
	"sync"
)

// Op is a group operation Batch can run on many groups at once.
type Op string

const (
	OpAdd    Op = "supervisor.addProcessGroup"
	OpRemove Op = "supervisor.removeProcessGroup"
	OpStop   Op = "supervisor.stopProcessGroup"  // waits until stopped
	OpStart  Op = "supervisor.startProcessGroup" // does not wait for RUNNING
)

// batchSize bounds the calls in one system.multicall request.
const batchSize = 500

// parallelRequests bounds the multicall requests one batched call has in
// flight at once. supervisord reads and writes at most 4 KB of each
// connection per turn of its main loop, and with thousands of processes a
// turn takes tens of milliseconds: the answer about 500 processes (half a
// megabyte of XML) took seconds on one connection, while N connections
// move N times as much per turn.
const parallelRequests = 8

// Batch runs op on every group in one request per batchSize groups
// (system.multicall). supervisord serves each request between turns of its
// main loop, which with thousands of processes takes tens of milliseconds:
// one call per group made adding 3,000 programs take minutes, one
// multicall takes a second. errs[i] is the error for groups[i].
func (c *Client) Batch(ctx context.Context, op Op, groups []string) []error {
	errs := make([]error, len(groups))
	c.batches(ctx, string(op), groups, func(g string) []any { return opParams(op, g) }, func(i int, v any, err error) {
		if err == nil && (op == OpStop || op == OpStart) {
			err = c.groupResults(string(op), v)
		}
		errs[i] = err
	})
	return errs
}

// Replace removes each group and adds it again, the add right after the
// remove in the same system.multicall (one request per batchSize groups):
// supervisord does both in one turn of its main loop instead of answering
// two requests, each of which waits for a turn (tens of milliseconds with
// thousands of processes) on a restart's way to the new process. The add
// of a group whose remove failed finds it still active (ALREADY_ADDED) and
// changes nothing.
func (c *Client) Replace(ctx context.Context, groups []string) (removeErrs, addErrs []error) {
	removeErrs, addErrs = make([]error, len(groups)), make([]error, len(groups))
	// Calls 2i and 2i+1 are the remove and the add of groups[i]: one
	// request holds both, batchSize being even.
	c.batchesOf(ctx, 2*len(groups), func(i int) (string, []any) {
		if i%2 == 0 {
			return string(OpRemove), []any{groups[i/2]}
		}
		return string(OpAdd), []any{groups[i/2]}
	}, func(i int, _ any, err error) {
		if i%2 == 0 {
			removeErrs[i/2] = err
		} else {
			addErrs[i/2] = err
		}
	})
	return removeErrs, addErrs
}

// StopProcesses signals each process in one request per batchSize names
// (stopProcess without wait, which supervisord answers at once).
func (c *Client) StopProcesses(ctx context.Context, names []string) []error {
	errs := make([]error, len(names))
	c.batches(ctx, "supervisor.stopProcess", names, func(n string) []any { return []any{n, false} }, func(i int, _ any, err error) {
		errs[i] = err
	})
	return errs
}

// StopNoWait signals every group's running processes in one request per
// batchSize groups. supervisord defers the answer of a group operation to
// its main loop, and a multicall answers deferred calls one at a time, so
// this is for the few groups whose process names are not known.
func (c *Client) StopNoWait(ctx context.Context, groups []string) ([][]string, []error) {
	const method = "supervisor.stopProcessGroup"
	procs := make([][]string, len(groups))
	errs := make([]error, len(groups))
	c.batches(ctx, method, groups, func(g string) []any { return []any{g, false} }, func(i int, v any, err error) {
		if errs[i] = err; err == nil {
			procs[i], errs[i] = c.groupOutcome(method, v)
		}
	})
	return procs, errs
}

func opParams(op Op, group string) []any {
	switch op {
	case OpStop:
		return []any{group, true}
	case OpStart:
		return []any{group, false}
	}
	return []any{group}
}

// ProcessInfos returns the status of many processes in one request per
// batchSize names; errs[i] is set when names[i] could not be read.
func (c *Client) ProcessInfos(ctx context.Context, names []string) ([]ProcessInfo, []error) {
	infos := make([]ProcessInfo, len(names))
	errs := make([]error, len(names))
	c.batches(ctx, "supervisor.getProcessInfo", names, func(n string) []any { return []any{n} }, func(i int, v any, err error) {
		if errs[i] = err; err == nil {
			infos[i], errs[i] = processInfo(v)
		}
	})
	return infos, errs
}

// batches calls method once per argument, in one system.multicall per
// batchSize calls, up to parallelRequests of them at once; take gets each
// call's value or error (a fault, or the failure of the whole request). It
// is called from several goroutines, each time for a different i.
func (c *Client) batches(ctx context.Context, method string, args []string, params func(string) []any, take func(i int, v any, err error)) {
	c.batchesOf(ctx, len(args), func(i int) (string, []any) { return method, params(args[i]) }, take)
}

// batchesOf is batches of n calls, call giving the method and parameters
// of the i-th.
func (c *Client) batchesOf(ctx context.Context, n int, call func(i int) (string, []any), take func(i int, v any, err error)) {
	var wg sync.WaitGroup
	slots := make(chan struct{}, parallelRequests)
	for lo := 0; lo < n; lo += batchSize {
		hi := min(lo+batchSize, n)
		calls := make([]any, 0, hi-lo)
		for i := lo; i < hi; i++ {
			method, params := call(i)
			calls = append(calls, map[string]any{"methodName": method, "params": params})
		}
		slots <- struct{}{}
		wg.Go(func() {
			defer func() { <-slots }()
			results, err := c.multicall(ctx, calls)
			for i := lo; i < hi; i++ {
				if err != nil {
					take(i, nil, err)
				} else {
					take(i, results[i-lo].value, results[i-lo].err)
				}
			}
		})
	}
	wg.Wait()
}

type callResult struct {
	value any
	err   error
}

// multicall runs system.multicall. supervisord's answer holds, for each
// call, a fault struct or the result value itself (its docstring promises
// one-item arrays, but its code appends the bare value).
func (c *Client) multicall(ctx context.Context, calls []any) ([]callResult, error) {
	const method = "system.multicall"
	v, err := c.call(ctx, method, calls)
	if err != nil {
		return nil, err
	}
	list, ok := v.([]any)
	if !ok || len(list) != len(calls) {
		return nil, c.wrap(method, fmt.Errorf("result is %T with %d items for %d calls", v, len(list), len(calls)))
	}
	out := make([]callResult, len(list))
	for i, item := range list {
		if r, ok := item.(map[string]any); ok {
			if code, ok := r["faultCode"].(int); ok {
				msg, _ := r["faultString"].(string)
				out[i].err = &Fault{Code: code, String: msg}
				continue
			}
		}
		out[i].value = item
	}
	return out, nil
}

// Batch runs op on every group, one call each: the fake has no main loop
// to amortise.
func (f *Fake) Batch(ctx context.Context, op Op, groups []string) []error {
	return EachBatch(ctx, f, op, groups)
}

// Replace removes each group and, where that succeeded or found none
// active, adds it again (the add after a failed remove would answer
// ALREADY_ADDED and change nothing).
func (f *Fake) Replace(ctx context.Context, groups []string) (removeErrs, addErrs []error) {
	return EachReplace(ctx, f, groups)
}

// EachReplace is Replace made of single calls.
func EachReplace(ctx context.Context, api API, groups []string) (removeErrs, addErrs []error) {
	removeErrs, addErrs = make([]error, len(groups)), make([]error, len(groups))
	for i, g := range groups {
		removeErrs[i] = api.RemoveProcessGroup(ctx, g)
		if removeErrs[i] == nil || IsFault(removeErrs[i], FaultBadName) {
			addErrs[i] = api.AddProcessGroup(ctx, g)
		}
	}
	return removeErrs, addErrs
}

// StopProcesses stops each process without waiting, like stopProcess.
func (f *Fake) StopProcesses(ctx context.Context, names []string) []error {
	errs := make([]error, len(names))
	for i, n := range names {
		errs[i] = f.stopProcess(n)
	}
	return errs
}

// StopNoWait stops each group without waiting (see Fake.StopDelay).
func (f *Fake) StopNoWait(ctx context.Context, groups []string) ([][]string, []error) {
	procs := make([][]string, len(groups))
	errs := make([]error, len(groups))
	for i, g := range groups {
		procs[i], errs[i] = f.stopGroup(g, false)
	}
	return procs, errs
}

// ProcessInfos reads each process like ProcessInfo.
func (f *Fake) ProcessInfos(ctx context.Context, names []string) ([]ProcessInfo, []error) {
	return EachProcessInfo(ctx, f, names)
}

// EachBatch is Batch made of single calls, for APIs without multicall
// (fakes, and wrappers of them in tests).
func EachBatch(ctx context.Context, api API, op Op, groups []string) []error {
	errs := make([]error, len(groups))
	for i, g := range groups {
		switch op {
		case OpAdd:
			errs[i] = api.AddProcessGroup(ctx, g)
		case OpRemove:
			errs[i] = api.RemoveProcessGroup(ctx, g)
		case OpStop:
			errs[i] = api.StopProcessGroup(ctx, g, true)
		case OpStart:
			errs[i] = api.StartProcessGroup(ctx, g, false)
		default:
			errs[i] = fmt.Errorf("supervisord: unknown operation %s", op)
		}
	}
	return errs
}

// EachProcessInfo is ProcessInfos made of single calls.
func EachProcessInfo(ctx context.Context, api API, names []string) ([]ProcessInfo, []error) {
	infos := make([]ProcessInfo, len(names))
	errs := make([]error, len(names))
	for i, n := range names {
		infos[i], errs[i] = api.ProcessInfo(ctx, n)
	}
	return infos, errs
}
