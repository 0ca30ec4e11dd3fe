// Package importrules holds no code. Its test enforces the direction of
// imports docs/architecture.md describes: the pure core (spec, netplan,
// render) reaches no side effect, and the CLI talks to the agent only
// through the packages meant for it.
package importrules
