package spec

import (
	"slices"
	"strconv"

	"github.com/hashicorp/hcl/v2"
)

// The attributes of a daemon block, each described once in DaemonFields.
// Every view of a daemon follows from that table: the HCL schema and the
// decoder (schema.go), defaults and per-attribute checks (build.go), what
// drover plan compares (review), the flags and edits of drover daemon
// (cmd/drover, edit), and the test that keeps the API's daemon type
// complete (agent). Adding an attribute is an entry here and a field in
// Daemon (model.go), plus whatever uses the value: render for supervisord
// or the exec spec, agent/launch for what drover exec does.

// FieldType is the HCL type of a daemon attribute.
type FieldType int

const (
	// TypeString is a string, a *string from the Daemon.
	TypeString FieldType = iota
	// TypeNumber is a whole number, an *int from the Daemon.
	TypeNumber
	// TypeBool is a bool, a *bool from the Daemon.
	TypeBool
	// TypeEnvironment is the environment map, read with the ranges of
	// its keys (decode.go) and checked key by key (build.go).
	TypeEnvironment
	// TypeHealth is the health block, a **Health from the Daemon: a
	// block of its own attributes (health.go), nil when absent.
	TypeHealth
)

// APIView says how the agent's API (GET /v1/daemons) shows an attribute.
type APIView int

const (
	// APIValue: under the attribute's name; null when it is absent.
	APIValue APIView = iota
	// APIRedacted: the environment, every value replaced by "(redacted)".
	APIRedacted
	// APIHidden: not shown as written. The port and node pins: the API
	// shows the port (proxy_port) and node the daemon has.
	APIHidden
)

// DaemonField describes one attribute of a daemon block.
type DaemonField struct {
	// Name is the HCL name; drover plan and the API use it too.
	Name string
	Type FieldType
	// Required attributes must be written; every other one may be
	// removed by drover daemon set --unset.
	Required bool
	// Default is the value of an omitted attribute (a string, int or
	// bool, as Type). Without one, an omitted attribute is absent: its
	// zero value in Daemon means "not set", drover plan reports it added
	// or removed, and the API shows null.
	Default any
	// Usage is the help of the attribute's drover daemon add|set flag
	// (--NAME with '-' for '_'), naming its value in backquotes; "" when
	// no flag sets it.
	Usage string
	API   APIView
	// ref points at the attribute's value in a Daemon: a *string, *int or
	// *bool (as Type); nil for the environment.
	ref func(*Daemon) any
	// check validates a value as written (not a default); nil when any
	// value of the type is valid. The fields above it are set.
	check func(c fieldCheck) hcl.Diagnostics
	// placed validates a value as written against the tenant's shard
	// (c.shard), which another file declares: Build runs it, while check
	// runs as the file is decoded (build_local.go).
	placed func(c fieldCheck) hcl.Diagnostics
	index  int // in DaemonFields
}

// Defaults applied when an optional attribute is omitted.
const (
	DefaultNumProcs     = 1
	DefaultStopSignal   = "TERM"
	DefaultStopWaitSecs = 30
	DefaultRestart      = "always"
)

// RestartPolicies are the values of restart: "always" starts a process
// again whatever its exit, "on-failure" not after an exit with status 0
// (design.md §6.7).
var RestartPolicies = []string{"always", "on-failure"}

// Ranges of the numeric attributes, inclusive (see also MaxMaxMemoryMB).
const (
	MinNumProcs     = 1
	MaxNumProcs     = 64
	MinStopWaitSecs = 1
	MaxStopWaitSecs = 3600
	MinMaxMemoryMB  = 16
	// MinMaxOpenFiles is the least max_open_files: a shell and a runtime
	// alone use a few dozen descriptors.
	MinMaxOpenFiles = 64
	// MaxMaxOpenFiles is the kernel's default fs.nr_open, the most
	// setrlimit grants even root unless the node raised it.
	MaxMaxOpenFiles = 1 << 20
	MinPort         = 10000
	MaxPort         = 19999
)

// DaemonFields lists a daemon's attributes in the order drover plan
// reports them, drover daemon add writes them and the schema offers them.
var DaemonFields = []*DaemonField{
	fieldCommand, fieldProxyPath, fieldNumProcs, fieldStopSignal, fieldStopWaitSecs, fieldRestart,
	fieldMaxMemoryMB, fieldMaxOpenFiles, fieldEnvironment, fieldEnvFile, fieldRestartOnChange, fieldHealth, fieldEnabled, fieldSingleton, fieldPort, fieldNode,
}

var (
	fieldCommand = &DaemonField{
		Name: "command", Type: TypeString, Required: true,
		Usage: "the command (run by /bin/sh -c, as written)",
		ref:   func(d *Daemon) any { return &d.Command },
		check: func(c fieldCheck) hcl.Diagnostics {
			if c.d.Command == "" {
				return hcl.Diagnostics{errorAt(c.rng, "Empty command",
					"The daemon %q has an empty command. Write the program to run, like \"php artisan queue:work\".", c.d.Name)}
			}
			return checkText("command", c.d.Command, c.rng)
		},
	}
	fieldProxyPath = &DaemonField{
		Name: "proxy_path", Type: TypeString,
		Usage: "proxy `PATH` through nginx (/app)",
		ref:   func(d *Daemon) any { return &d.ProxyPath },
		check: func(c fieldCheck) hcl.Diagnostics { return checkProxyPath(c.d.ProxyPath, c.rng) },
	}
	fieldNumProcs = &DaemonField{
		Name: "num_procs", Type: TypeNumber, Default: DefaultNumProcs,
		Usage: "number of processes `N`",
		ref:   func(d *Daemon) any { return &d.NumProcs },
		check: inRange(MinNumProcs, MaxNumProcs),
	}
	fieldStopSignal = &DaemonField{
		Name: "stop_signal", Type: TypeString, Default: DefaultStopSignal,
		Usage: "stop `SIGNAL` (TERM HUP INT QUIT KILL USR1 USR2)",
		ref:   func(d *Daemon) any { return &d.StopSignal },
		check: func(c fieldCheck) hcl.Diagnostics { return checkStopSignal(c.d.StopSignal, c.rng) },
	}
	fieldStopWaitSecs = &DaemonField{
		Name: "stop_wait_secs", Type: TypeNumber, Default: DefaultStopWaitSecs,
		Usage: "seconds `N` to wait after the stop signal",
		ref:   func(d *Daemon) any { return &d.StopWaitSecs },
		check: inRange(MinStopWaitSecs, MaxStopWaitSecs),
	}
	fieldRestart = &DaemonField{
		Name: "restart", Type: TypeString, Default: DefaultRestart,
		Usage: "restart `POLICY`: always (any exit) or on-failure (not after exit status 0)",
		ref:   func(d *Daemon) any { return &d.Restart },
		check: func(c fieldCheck) hcl.Diagnostics {
			if slices.Contains(RestartPolicies, c.d.Restart) {
				return nil
			}
			return hcl.Diagnostics{errorAt(c.rng, "Invalid restart policy",
				"The restart policy %q is not known. Use \"always\" (start the daemon again whatever its exit; the default) or \"on-failure\" (not after it exits with status 0).", c.d.Restart)}
		},
	}
	fieldMaxMemoryMB = &DaemonField{
		Name: "max_memory_mb", Type: TypeNumber,
		Usage: "memory limit in `MB`",
		ref:   func(d *Daemon) any { return &d.MaxMemoryMB },
		// The upper bound is checked at decode (checkDaemonBounds).
		check: func(c fieldCheck) hcl.Diagnostics {
			if c.d.MaxMemoryMB < MinMaxMemoryMB {
				return hcl.Diagnostics{errorAt(c.rng, "Invalid max_memory_mb",
					"The memory limit must be at least %d MB; it is %d. Omit max_memory_mb for no limit.", MinMaxMemoryMB, c.d.MaxMemoryMB)}
			}
			return nil
		},
	}
	fieldMaxOpenFiles = &DaemonField{
		Name: "max_open_files", Type: TypeNumber,
		Usage: "limit on open files `N` (RLIMIT_NOFILE)",
		ref:   func(d *Daemon) any { return &d.MaxOpenFiles },
		check: func(c fieldCheck) hcl.Diagnostics {
			if n := c.d.MaxOpenFiles; n < MinMaxOpenFiles || n > MaxMaxOpenFiles {
				return hcl.Diagnostics{errorAt(c.rng, "Invalid max_open_files",
					"The limit on open files must be between %d and %d (the kernel's default fs.nr_open); it is %d. Omit max_open_files to keep the limit supervisord passes on.", MinMaxOpenFiles, MaxMaxOpenFiles, n)}
			}
			return nil
		},
	}
	fieldEnvironment = &DaemonField{Name: "environment", Type: TypeEnvironment, API: APIRedacted}
	// env_file is read by drover exec, as the tenant (agent/launch).
	fieldEnvFile = &DaemonField{
		Name: "env_file", Type: TypeString,
		Usage: "read variables from `FILE` in the webroot (KEY=VALUE lines, as the tenant; environment wins)",
		ref:   func(d *Daemon) any { return &d.EnvFile },
		check: func(c fieldCheck) hcl.Diagnostics { return checkWebrootFile("env_file", c.d.EnvFile, c.rng) },
	}
	// restart_on_change is watched by the agent (agent/deploy.go), which
	// restarts the daemon when the file's content changes.
	fieldRestartOnChange = &DaemonField{
		Name: "restart_on_change", Type: TypeString,
		Usage: "restart gracefully when the content of `FILE` in the webroot changes (a deploy's REVISION)",
		ref:   func(d *Daemon) any { return &d.RestartOnChange },
		check: func(c fieldCheck) hcl.Diagnostics {
			return checkWebrootFile("restart_on_change", c.d.RestartOnChange, c.rng)
		},
	}
	// health is probed by the agent (agent/health), which restarts the
	// daemon when it fails; a block, written and checked in health.go.
	fieldHealth = &DaemonField{
		Name: "health", Type: TypeHealth,
		ref: func(d *Daemon) any { return &d.Health },
	}
	// enabled has no value flag: drover daemon enable|disable and add
	// --disabled set it.
	fieldEnabled = &DaemonField{
		Name: "enabled", Type: TypeBool, Default: true,
		ref: func(d *Daemon) any { return &d.Enabled },
	}
	// singleton is read by render (autostart=false) and the agent, which
	// runs a singleton only while its node sees a majority of its shard.
	fieldSingleton = &DaemonField{
		Name: "singleton", Type: TypeBool, Default: false,
		Usage: "at most one copy runs anywhere, also during a network partition (schedulers, cron-like workers); " +
			"default: available, which may run on both sides of a partition",
		ref: func(d *Daemon) any { return &d.Singleton },
	}
	fieldPort = &DaemonField{
		Name: "port", Type: TypeNumber, API: APIHidden,
		Usage: "pin the port to `N`",
		ref:   func(d *Daemon) any { return &d.Port },
		check: func(c fieldCheck) hcl.Diagnostics {
			diags := checkRange("port", c.d.Port, MinPort, MaxPort, c.rng)
			if c.d.ProxyPath == "" {
				diags = append(diags, warningAt(c.rng, "Port pin without proxy_path",
					"The daemon %q pins port %d but has no proxy_path, so no port is allocated or passed to it. Remove the pin or add a proxy_path.", c.d.Name, c.d.Port))
			}
			return diags
		},
	}
	fieldNode = &DaemonField{
		Name: "node", Type: TypeString, API: APIHidden,
		Usage:  "pin the daemon to node `NAME`",
		ref:    func(d *Daemon) any { return &d.Node },
		placed: checkNodePin,
	}
)

// daemonDefaults is a Daemon with every default of DaemonFields.
var daemonDefaults = func() Daemon {
	var d Daemon
	for _, f := range DaemonFields {
		if f.ref != nil {
			f.setDefault(&d)
		}
	}
	return d
}()

func init() {
	for i, f := range DaemonFields {
		f.index = i
	}
}

// fieldCheck is what a field's check sees: the daemon built so far, the
// range of the value and the daemon's context.
type fieldCheck struct {
	d     *Daemon
	rng   hcl.Range
	field *DaemonField
	shard *Shard // the tenant's, for placed; nil when it is unknown (reported)
}

// inRange checks a number against lo..hi.
func inRange(lo, hi int) func(c fieldCheck) hcl.Diagnostics {
	return func(c fieldCheck) hcl.Diagnostics {
		return checkRange(c.field.Name, *c.field.ref(c.d).(*int), lo, hi, c.rng)
	}
}

// Flag is the name of the attribute's drover daemon flag: Name with '-'
// for '_'.
func (f *DaemonField) Flag() string {
	b := []byte(f.Name)
	for i, c := range b {
		if c == '_' {
			b[i] = '-'
		}
	}
	return string(b)
}

// Text is the attribute's value in d as drover plan shows it, and false
// when it is absent (an optional attribute without a default, at its zero
// value) or the environment.
func (f *DaemonField) Text(d *Daemon) (string, bool) {
	if f.ref == nil {
		return "", false
	}
	var s string
	var zero bool
	switch p := f.ref(d).(type) {
	case *string:
		s, zero = *p, *p == ""
	case *int:
		s, zero = strconv.Itoa(*p), *p == 0
	case *bool:
		s, zero = strconv.FormatBool(*p), !*p
	case **Health:
		if *p != nil {
			s = (*p).String()
		}
		zero = *p == nil
	}
	if zero && !f.Required && f.Default == nil {
		return "", false
	}
	return s, true
}

// setDefault stores the attribute's default in d, if it has one.
func (f *DaemonField) setDefault(d *Daemon) {
	switch p := f.ref(d).(type) {
	case *string:
		if s, ok := f.Default.(string); ok {
			*p = s
		}
	case *int:
		if n, ok := f.Default.(int); ok {
			*p = n
		}
	case *bool:
		if b, ok := f.Default.(bool); ok {
			*p = b
		}
	}
}

// setRaw stores a decoded value in d.
func (f *DaemonField) setRaw(d *Daemon, a *rawAttr) {
	switch p := f.ref(d).(type) {
	case *string:
		*p = a.Str
	case *int:
		*p = a.Int
	case *bool:
		*p = a.Bool
	}
}

// daemonSchemaOf is the schema of a daemon block: an attribute for each
// field, a block for the health block.
func daemonSchemaOf(fields []*DaemonField) *hcl.BodySchema {
	s := &hcl.BodySchema{}
	for _, f := range fields {
		if f.Type == TypeHealth {
			s.Blocks = append(s.Blocks, hcl.BlockHeaderSchema{Type: f.Name})
			continue
		}
		s.Attributes = append(s.Attributes, hcl.AttributeSchema{Name: f.Name, Required: f.Required})
	}
	return s
}
