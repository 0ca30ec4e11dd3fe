package spec

// FixedPort exposes fixedPort to the tests of package spec_test.
var FixedPort = fixedPort

// Incremental reports whether l's last Load built from the one before.
func Incremental(l *Loader) bool { return l.incremental }

// QuickParse exposes quickParse to the tests of package spec_test.
var QuickParse = quickParse
