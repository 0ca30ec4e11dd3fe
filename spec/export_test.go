package spec

// FixedPort exposes fixedPort to the tests of package spec_test.
var FixedPort = fixedPort
