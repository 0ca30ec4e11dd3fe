package spec

import (
	"slices"
	"strings"
)

// Env is a daemon's environment: its variables sorted by name, each name
// once. A slice rather than a map: a model of 100,000 daemons holds some
// 400,000 variables, and Go's map of a few entries costs about 340 bytes
// where the slice costs 32 a variable (20 MB of the agent's heap at that
// size).
type Env []EnvVar

// EnvVar is one variable of an Env.
type EnvVar struct{ Name, Value string }

// Lookup returns the value of the variable name and whether it is set.
func (e Env) Lookup(name string) (string, bool) {
	i, ok := slices.BinarySearchFunc(e, name, func(v EnvVar, name string) int { return strings.Compare(v.Name, name) })
	if !ok {
		return "", false
	}
	return e[i].Value, true
}

// Value is the value of the variable name, "" when it is not set.
func (e Env) Value(name string) string {
	v, _ := e.Lookup(name)
	return v
}

// Map returns the variables as a new map.
func (e Env) Map() map[string]string {
	m := make(map[string]string, len(e))
	for _, v := range e {
		m[v.Name] = v.Value
	}
	return m
}

// sortEnv sorts variables collected in any order by name (names unique).
func sortEnv(e Env) {
	slices.SortFunc(e, func(a, b EnvVar) int { return strings.Compare(a.Name, b.Name) })
}
