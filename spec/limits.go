package spec

import (
	"fmt"
	"math/big"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// Bounds on what a config repository may hold. A pull request is less
// trusted than the nodes that load it: without them a few hundred bytes can
// make every agent of a cluster exhaust its memory, or overflow the HCL
// parser's stack (a fatal error, not a panic). Each is checked before the
// work it bounds, with a located diagnostic saying the limit.
const (
	// MaxFileBytes bounds one config file. It is checked before the file
	// is read whole; 4 MiB is a single file describing some 10,000 daemons.
	MaxFileBytes = 4 << 20
	// DefaultMaxRepoBytes bounds the config files of a repository together
	// (a Loader's MaxBytes when not set): 64 MiB is some 150,000 daemons
	// as the generator writes them (100,000 take 41 MiB), and about 1 GiB
	// of memory while they are decoded. A larger repository sets its own
	// bound, the same on CI and on every node (see Loader.MaxBytes).
	DefaultMaxRepoBytes = 64 << 20
	// MaxMaxRepoBytes is the largest bound a Loader accepts (16 GiB of
	// memory to decode).
	MaxMaxRepoBytes = 1 << 30
	// MaxConfigFiles bounds the number of config files.
	MaxConfigFiles = 50_000
	// MaxNestingDepth bounds how deep brackets, braces, parentheses,
	// strings, templates and operator chains nest in one file, checked on
	// the raw bytes before a parser sees them. drover's schema needs 5
	// levels in native syntax and about 10 in JSON.
	MaxNestingDepth = 32
	// MaxNumberExponent bounds numbers to ±1e1000, and non-zero ones to at
	// least 1e-1000 in magnitude: converting 1e10000000 to text takes HCL
	// minutes, and no setting needs such a number.
	MaxNumberExponent = 1000

	// MaxCommandBytes bounds a daemon's command. The command reaches the
	// shell as one argument, and Linux refuses any argument over 128 KiB
	// (MAX_ARG_STRLEN): such a daemon would validate and never start.
	MaxCommandBytes = 64 << 10
	// MaxEnvValueBytes bounds one environment value (NAME=value is one
	// string for the kernel, under the same 128 KiB limit).
	MaxEnvValueBytes = 64 << 10
	// MaxEnvVars bounds the number of environment variables of a daemon.
	MaxEnvVars = 1024
	// MaxExecBytes bounds a daemon's command and environment together
	// (every NAME=value counted with its name), far below the kernel's
	// limit on arguments and environment together (ARG_MAX, 2 MiB with the
	// default 8 MiB stack).
	MaxExecBytes = 256 << 10

	// MaxMaxMemoryMB bounds max_memory_mb (1 TiB): the limit is handed to
	// the kernel in bytes, and a larger number overflowed that conversion.
	MaxMaxMemoryMB = 1 << 20
)

// The bounds of MaxNumberExponent.
var maxNumber, minNumber = powerOf10(MaxNumberExponent), powerOf10(-MaxNumberExponent)

func powerOf10(exp int) *big.Float {
	f, _, err := big.ParseFloat(fmt.Sprintf("1e%d", exp), 10, 512, big.ToNearestEven)
	if err != nil {
		panic(err)
	}
	return f
}

// checkNumber reports a number outside ±1e1000 (or closer to zero than
// 1e-1000) before anything converts it to text.
func checkNumber(v cty.Value, rng hcl.Range) hcl.Diagnostics {
	if v.IsNull() || !v.IsKnown() || v.Type() != cty.Number {
		return nil
	}
	f := v.AsBigFloat() // a copy
	f.Abs(f)
	if f.Sign() == 0 || !f.IsInf() && f.Cmp(maxNumber) <= 0 && f.Cmp(minNumber) >= 0 {
		return nil
	}
	return hcl.Diagnostics{errorAt(rng, "Number out of range",
		"drover accepts numbers between -1e%d and 1e%d, and none closer to zero than 1e-%d: no setting needs more, and converting a longer number to text would take minutes. Write a smaller number, or a quoted string if this is text.",
		MaxNumberExponent, MaxNumberExponent, MaxNumberExponent)}
}

// checkValue applies checkNumber to every number in a decoded value (JSON
// syntax, whose expressions are evaluated to be checked).
func checkValue(v cty.Value, rng hcl.Range) hcl.Diagnostics {
	if v.IsNull() || !v.IsKnown() {
		return nil
	}
	ty := v.Type()
	switch {
	case ty == cty.Number:
		return checkNumber(v, rng)
	case ty.IsListType() || ty.IsTupleType() || ty.IsSetType() || ty.IsMapType() || ty.IsObjectType():
		for it := v.ElementIterator(); it.Next(); {
			k, e := it.Element()
			if d := checkValue(k, rng); d.HasErrors() {
				return d
			}
			if d := checkValue(e, rng); d.HasErrors() {
				return d
			}
		}
	}
	return nil
}

// checkDaemonBounds reports a command, environment or memory limit beyond
// what a process can be started with. The ranges it reports are then
// marked failed, so Build does not check those values again.
func checkDaemonBounds(file string, d *rawDaemon, env []envEntry) hcl.Diagnostics {
	var diags hcl.Diagnostics
	var command string
	var commandRange span
	if a := d.get(fieldCommand); a != nil {
		command, commandRange = a.Str, a.Range
	}
	if n := len(command); n > MaxCommandBytes {
		diags = append(diags, errorAt(commandRange.in(file), "Command too long",
			"The command of daemon %q is %d bytes; drover accepts at most %d (Linux refuses a single argument over 128 KiB, so the daemon could never start). Put the long part in a script in the webroot and run that.",
			d.Name, n, MaxCommandBytes))
	}
	total := len(command)
	for _, e := range env {
		total += len(e.Key) + 1 + len(e.Value)
		if n := len(e.Value); n > MaxEnvValueBytes {
			diags = append(diags, errorAt(e.ValueRange.in(file), "Environment value too long",
				"The value of %s is %d bytes; drover accepts at most %d per value (Linux refuses a single variable over 128 KiB). Pass large data in a file in the webroot and its path in the environment.",
				e.Key, n, MaxEnvValueBytes))
		}
	}
	if len(env) > MaxEnvVars {
		diags = append(diags, errorAt(d.DefRange.in(file), "Too many environment variables",
			"The daemon %q has %d environment variables; drover accepts at most %d. Pass the settings in a file in the webroot.",
			d.Name, len(env), MaxEnvVars))
	} else if total > MaxExecBytes && !diags.HasErrors() {
		diags = append(diags, errorAt(d.DefRange.in(file), "Command and environment too large",
			"The command and environment of daemon %q add up to %d bytes; drover accepts at most %d together (Linux limits a process's arguments and environment). Pass large data in a file in the webroot.",
			d.Name, total, MaxExecBytes))
	}
	if a := d.get(fieldMaxMemoryMB); a != nil && a.Int > MaxMaxMemoryMB {
		diags = append(diags, errorAt(a.Range.in(file), "Invalid max_memory_mb",
			"The memory limit is %d MB; drover accepts at most %d MB (1 TiB). Omit max_memory_mb for no limit.",
			a.Int, MaxMaxMemoryMB))
	}
	return diags
}
