package supervisor

import "context"

// API is the part of supervisord's XML-RPC interface drover uses. Client is
// the real implementation, Fake the one tests use.
type API interface {
	// ReloadConfig re-reads the configuration files and reports the groups
	// that differ from the active ones; it changes no process.
	ReloadConfig(ctx context.Context) (added, changed, removed []string, err error)
	// AddProcessGroup activates a group from the loaded configuration.
	AddProcessGroup(ctx context.Context, name string) error
	// RemoveProcessGroup removes an active group whose processes are stopped.
	RemoveProcessGroup(ctx context.Context, name string) error
	// StartProcessGroup starts the group's processes that are not running.
	StartProcessGroup(ctx context.Context, name string, wait bool) error
	// StopProcessGroup stops the group's running processes.
	StopProcessGroup(ctx context.Context, name string, wait bool) error
	// ProcessInfo returns one process's status ("group:process" or "name").
	ProcessInfo(ctx context.Context, name string) (ProcessInfo, error)
	// AllProcessInfo returns every active process's status.
	AllProcessInfo(ctx context.Context) ([]ProcessInfo, error)
	// State returns supervisord's own state, e.g. RUNNING.
	State(ctx context.Context) (string, error)
	// Batch runs one group operation on many groups at once; errs[i] is
	// the error for groups[i].
	Batch(ctx context.Context, op Op, groups []string) (errs []error)
	// Replace removes each group and adds it again from the loaded
	// configuration; addErrs[i] counts only when the remove of groups[i]
	// succeeded or found no active group (BAD_NAME).
	Replace(ctx context.Context, groups []string) (removeErrs, addErrs []error)
	// StopProcesses signals each named process ("group:name") to stop
	// and returns at once; errs[i] is the fault for names[i].
	StopProcesses(ctx context.Context, names []string) (errs []error)
	// StopNoWait signals the running processes of each group to stop and
	// returns at once; procs[i] names ("group:name") the processes of
	// groups[i] it signalled.
	StopNoWait(ctx context.Context, groups []string) (procs [][]string, errs []error)
	// ProcessInfos returns the status of many processes at once.
	ProcessInfos(ctx context.Context, names []string) ([]ProcessInfo, []error)
	// StartProcesses starts each named process without waiting;
	// errs[i] is the fault for names[i].
	StartProcesses(ctx context.Context, names []string) (errs []error)
	// StderrTails returns the last max bytes of each named process's
	// stderr log.
	StderrTails(ctx context.Context, names []string, max int) (tails []string, errs []error)
	// LogTail reads a process's log written after from (logs.go).
	LogTail(ctx context.Context, name string, s Stream, from, length int) (Tail, error)
}

var _ API = (*Client)(nil)
