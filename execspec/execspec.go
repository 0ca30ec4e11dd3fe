// Package execspec is the exec spec: the file the agent installs for every
// program and `drover exec` reads to start it (render writes it as
// render.ExecSpec, agent/launch reads it). It imports only low standard
// library packages, on purpose: `drover exec` runs before the rest of
// drover is initialised (cmd/drover/internal/execfirst), and a package it
// imports that needs HCL, cty or the like would pull their initialisation
// in front of every daemon start.
package execspec

import "reflect"

// Spec is everything `drover exec` needs to start one daemon exactly as
// written (design.md §4.3, §5). It is stored as JSON, readable by root only: the
// environment holds secrets. Strings travel as JSON strings, so any text
// reaches the process byte for byte.
type Spec struct {
	Program string `json:"program"`
	// Command is run as /bin/sh -c "exec COMMAND".
	Command string `json:"command"`
	User    string `json:"user"`
	UID     uint32 `json:"uid"`
	// Home is HOME when the uid has no passwd entry.
	Home string `json:"home"`
	Dir  string `json:"dir"`
	// Env is the daemon's own environment, HOST and PORT included; the
	// wrapper adds PATH, HOME, USER, LOGNAME and SHELL and nothing else.
	Env map[string]string `json:"env"`
	// EnvFile is a file relative to Dir whose variables drover exec reads
	// as the tenant, under Env; "" when there is none.
	EnvFile     string `json:"env_file,omitempty"`
	MaxMemoryMB int    `json:"max_memory_mb,omitempty"`
	// MaxOpenFiles is the soft and hard RLIMIT_NOFILE; 0 keeps the one
	// supervisord passes on.
	MaxOpenFiles int `json:"max_open_files,omitempty"`
}

// SealedPrefix starts an environment value that is still encrypted (see
// package secret): the agent decrypts such values into the exec spec it
// installs, and drover exec refuses a spec that still holds one.
const SealedPrefix = "drover:age:"

// Equal reports whether two exec specs are the same.
func (s Spec) Equal(o Spec) bool { return reflect.DeepEqual(s, o) }
