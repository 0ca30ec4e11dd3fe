// Package supervisor drives supervisord 4.2 over its XML-RPC interface on
// the unix socket: a Client for the real daemon, a state-modelling Fake for
// tests, Rollout (restarts and removals of many groups, each on its own,
// never a blanket restart) and the event-listener protocol.
package supervisor

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// Fault codes supervisord answers with (supervisor/xmlrpc.py, Faults).
const (
	FaultShutdownState       = 6  // supervisord is shutting down or restarting
	FaultBadName             = 10 // no such group or process (or not in the loaded config)
	FaultFailed              = 30 // an operation failed (e.g. a stop could not signal)
	FaultAbnormalTermination = 40 // a process left STARTING for a state other than RUNNING
	FaultSpawnError          = 50 // a process could not be spawned or exited too quickly
	FaultAlreadyStarted      = 60 // startProcess on a running process
	FaultNotRunning          = 70 // stopProcess on a process that is not running
	FaultSuccess             = 80 // per-process status in group results; never a fault
	FaultAlreadyAdded        = 90 // addProcessGroup on an active group
	FaultStillRunning        = 91 // removeProcessGroup while a process is not stopped
	FaultCantReread          = 92 // reloadConfig found an invalid configuration
)

// Fault is an XML-RPC fault from supervisord, or the failure of one process
// in a group operation. String is supervisord's text, e.g. "BAD_NAME: web".
type Fault struct {
	Code   int
	String string
}

func (f *Fault) Error() string {
	return fmt.Sprintf("supervisord fault %d: %s", f.Code, f.String)
}

// IsFault reports whether err is, or wraps, a Fault with the given code.
// For a joined error it reports whether any of its faults has the code.
func IsFault(err error, code int) bool {
	if err == nil {
		return false
	}
	if f, ok := err.(*Fault); ok {
		return f.Code == code
	}
	switch u := err.(type) {
	case interface{ Unwrap() error }:
		return IsFault(u.Unwrap(), code)
	case interface{ Unwrap() []error }:
		for _, e := range u.Unwrap() {
			if IsFault(e, code) {
				return true
			}
		}
	}
	return false
}

// ProcessInfo is supervisord's process status struct (getProcessInfo).
type ProcessInfo struct {
	Name        string // process name, e.g. "web" or "web_00"
	Group       string // group (program) name
	State       string // STOPPED, STARTING, RUNNING, BACKOFF, STOPPING, EXITED, FATAL, UNKNOWN
	Description string // supervisorctl's status text: "pid 12, uptime 0:01:02", the spawn error, ...
	SpawnErr    string // why the last spawn failed, "" if it did not
	StateCode   int    // supervisord's numeric state (0, 10, 20, 30, 40, 100, 200, 1000)
	PID         int    // 0 unless running
	ExitStatus  int    // of the last exit
	Start       time.Time
	Stop        time.Time
	Now         time.Time // supervisord's clock when it answered
}

// Client talks to supervisord over its unix socket. It connects lazily, once
// per call; every call ends by its context's deadline or after Timeout,
// whichever comes first (a supervisord stopped with SIGSTOP accepts
// connections and never answers).
type Client struct {
	// Timeout bounds each call (0: DefaultTimeout).
	Timeout time.Duration
	socket  string
	hc      *http.Client
}

// DefaultTimeout bounds a call when Client.Timeout is not set.
const DefaultTimeout = 30 * time.Second

// maxResponse bounds a response body; getAllProcessInfo for thousands of
// processes is a few megabytes.
const maxResponse = 64 << 20

// New returns a client for the supervisord listening on socket. It does not
// connect.
func New(socket string) *Client {
	var d net.Dialer
	return &Client{
		socket: socket,
		hc: &http.Client{Transport: &http.Transport{
			DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
				return d.DialContext(ctx, "unix", socket)
			},
			// A fresh connection per call: connecting to a unix socket is
			// cheap, and a non-idempotent POST is never sent on a
			// connection supervisord may be closing.
			DisableKeepAlives: true,
		}},
	}
}

// call performs one XML-RPC call. Faults are returned as *Fault; anything
// else is wrapped as "supervisord at SOCKET: METHOD: ...".
func (c *Client) call(ctx context.Context, method string, params ...any) (any, error) {
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	body, err := encodeCall(method, params...)
	if err != nil {
		return nil, c.wrap(method, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://localhost/RPC2", bytes.NewReader(body))
	if err != nil {
		return nil, c.wrap(method, err)
	}
	req.Header.Set("Content-Type", "text/xml")
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, c.wrap(method, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse+1))
	if err != nil {
		return nil, c.wrap(method, fmt.Errorf("reading response: %w", err))
	}
	if resp.StatusCode != http.StatusOK {
		return nil, c.wrap(method, fmt.Errorf("HTTP %s: %.200s", resp.Status, data))
	}
	if len(data) > maxResponse {
		return nil, c.wrap(method, fmt.Errorf("response larger than %d bytes", maxResponse))
	}
	v, err := decodeResponse(data)
	if err != nil {
		var f *Fault
		if errors.As(err, &f) {
			return nil, f
		}
		return nil, c.wrap(method, err)
	}
	return v, nil
}

func (c *Client) wrap(method string, err error) error {
	return fmt.Errorf("supervisord at %s: %s: %w", c.socket, method, err)
}

// ReloadConfig makes supervisord re-read its configuration files
// (supervisor.reloadConfig) and reports which groups differ from the active
// ones. It changes no process.
func (c *Client) ReloadConfig(ctx context.Context) (added, changed, removed []string, err error) {
	const method = "supervisor.reloadConfig"
	v, err := c.call(ctx, method)
	if err != nil {
		return nil, nil, nil, err
	}
	// [[added, changed, removed]]
	outer, ok := v.([]any)
	if !ok || len(outer) != 1 {
		return nil, nil, nil, c.wrap(method, fmt.Errorf("unexpected result %v", v))
	}
	inner, ok := outer[0].([]any)
	if !ok || len(inner) != 3 {
		return nil, nil, nil, c.wrap(method, fmt.Errorf("unexpected result %v", v))
	}
	var lists [3][]string
	for i, l := range inner {
		if lists[i], err = stringList(l); err != nil {
			return nil, nil, nil, c.wrap(method, err)
		}
	}
	return lists[0], lists[1], lists[2], nil
}

// AddProcessGroup activates a group from the configuration loaded by the
// last ReloadConfig. supervisord then starts its processes if autostart is
// set, asynchronously.
func (c *Client) AddProcessGroup(ctx context.Context, name string) error {
	_, err := c.call(ctx, "supervisor.addProcessGroup", name)
	return err
}

// RemoveProcessGroup removes a group whose processes are all stopped.
func (c *Client) RemoveProcessGroup(ctx context.Context, name string) error {
	_, err := c.call(ctx, "supervisor.removeProcessGroup", name)
	return err
}

// StartProcessGroup starts the group's processes that are not running (those
// in STARTING, RUNNING or BACKOFF are left alone, without a fault). With wait
// it returns once each is RUNNING or has failed. A process that fails makes
// a *Fault (SPAWN_ERROR, ABNORMAL_TERMINATION, ...); several are joined.
// Even without wait, a process that exits before supervisord answers can
// make a SPAWN_ERROR.
func (c *Client) StartProcessGroup(ctx context.Context, name string, wait bool) error {
	const method = "supervisor.startProcessGroup"
	v, err := c.call(ctx, method, name, wait)
	if err != nil {
		return err
	}
	return c.groupResults(method, v)
}

// StopProcessGroup stops the group's running processes (STARTING, RUNNING,
// BACKOFF); a group with none running is not an error. With wait it returns
// once each is stopped.
func (c *Client) StopProcessGroup(ctx context.Context, name string, wait bool) error {
	const method = "supervisor.stopProcessGroup"
	v, err := c.call(ctx, method, name, wait)
	if err != nil {
		return err
	}
	return c.groupResults(method, v)
}

// groupResults turns the per-process status structs of a group operation
// into an error: one *Fault per process whose status is not SUCCESS.
func (c *Client) groupResults(method string, v any) error {
	_, err := c.groupOutcome(method, v)
	return err
}

// groupOutcome reads the per-process status structs of a group operation:
// the processes it succeeded for ("group:name") and one *Fault per process
// it failed for.
func (c *Client) groupOutcome(method string, v any) ([]string, error) {
	list, ok := v.([]any)
	if !ok {
		return nil, c.wrap(method, fmt.Errorf("result is %T, not an array", v))
	}
	var names []string
	var errs []error
	for _, item := range list {
		s, ok := item.(map[string]any)
		if !ok {
			return nil, c.wrap(method, fmt.Errorf("result item is %T, not a struct", item))
		}
		code, _ := s["status"].(int)
		if code == FaultSuccess {
			group, _ := s["group"].(string)
			name, _ := s["name"].(string)
			names = append(names, group+":"+name)
			continue
		}
		desc, _ := s["description"].(string)
		errs = append(errs, &Fault{Code: code, String: desc})
	}
	return names, errors.Join(errs...)
}

// ProcessInfo returns the status of one process, named "group:process" or,
// when the process is named like its group, just "name".
func (c *Client) ProcessInfo(ctx context.Context, name string) (ProcessInfo, error) {
	const method = "supervisor.getProcessInfo"
	v, err := c.call(ctx, method, name)
	if err != nil {
		return ProcessInfo{}, err
	}
	info, err := processInfo(v)
	if err != nil {
		return ProcessInfo{}, c.wrap(method, err)
	}
	return info, nil
}

// AllProcessInfo returns the status of every active process, sorted by group
// and process name.
func (c *Client) AllProcessInfo(ctx context.Context) ([]ProcessInfo, error) {
	const method = "supervisor.getAllProcessInfo"
	v, err := c.call(ctx, method)
	if err != nil {
		return nil, err
	}
	list, ok := v.([]any)
	if !ok {
		return nil, c.wrap(method, fmt.Errorf("result is %T, not an array", v))
	}
	out := make([]ProcessInfo, 0, len(list))
	for _, item := range list {
		info, err := processInfo(item)
		if err != nil {
			return nil, c.wrap(method, err)
		}
		out = append(out, info)
	}
	return out, nil
}

// State returns supervisord's own state: RUNNING, RESTARTING, SHUTDOWN or
// FATAL.
func (c *Client) State(ctx context.Context) (string, error) {
	const method = "supervisor.getState"
	v, err := c.call(ctx, method)
	if err != nil {
		return "", err
	}
	s, ok := v.(map[string]any)
	if !ok {
		return "", c.wrap(method, fmt.Errorf("result is %T, not a struct", v))
	}
	name, ok := s["statename"].(string)
	if !ok {
		return "", c.wrap(method, fmt.Errorf("result lacks statename: %v", s))
	}
	return name, nil
}

func stringList(v any) ([]string, error) {
	list, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("expected an array of strings, got %T", v)
	}
	out := make([]string, 0, len(list))
	for _, item := range list {
		s, ok := item.(string)
		if !ok {
			return nil, fmt.Errorf("expected an array of strings, found %T", item)
		}
		out = append(out, s)
	}
	return out, nil
}

// processInfo maps supervisord's process info struct.
func processInfo(v any) (ProcessInfo, error) {
	s, ok := v.(map[string]any)
	if !ok {
		return ProcessInfo{}, fmt.Errorf("process info is %T, not a struct", v)
	}
	var p ProcessInfo
	var errs []error
	str := func(key string, dst *string) {
		if x, ok := s[key].(string); ok {
			*dst = x
		} else {
			errs = append(errs, fmt.Errorf("process info field %s is %T, not a string", key, s[key]))
		}
	}
	num := func(key string, dst *int) {
		if x, ok := s[key].(int); ok {
			*dst = x
		} else {
			errs = append(errs, fmt.Errorf("process info field %s is %T, not an int", key, s[key]))
		}
	}
	stamp := func(key string, dst *time.Time) {
		var n int
		num(key, &n)
		if n != 0 {
			*dst = time.Unix(int64(n), 0)
		}
	}
	str("name", &p.Name)
	str("group", &p.Group)
	str("statename", &p.State)
	str("description", &p.Description)
	str("spawnerr", &p.SpawnErr)
	num("state", &p.StateCode)
	num("pid", &p.PID)
	num("exitstatus", &p.ExitStatus)
	stamp("start", &p.Start)
	stamp("stop", &p.Stop)
	stamp("now", &p.Now)
	return p, errors.Join(errs...)
}
