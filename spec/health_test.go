package spec_test

import (
	"strings"
	"testing"
	"time"

	"github.com/drover-sh/drover/spec"
)

// proxied returns tenants/acme.hcl whose daemon "worker" is proxied at
// /app (line 7) with a health block of the given lines: the block opens
// on line 8, its first line is line 9.
func proxied(lines ...string) string {
	attrs := []string{`proxy_path = "/app"`, "health {"}
	for _, l := range lines {
		attrs = append(attrs, "  "+l)
	}
	return daemon(append(attrs, "}")...)
}

// healthCases has one case per rule of the health block.
var healthCases = []validateCase{
	{
		name:  "health without proxy_path",
		files: map[string]string{tenantFile: daemon(`health { path = "/healthz" }`)},
		want: []wantDiag{errAt(tenantFile, 7, "Health check without proxy_path",
			`The daemon "worker" has a health block but no proxy_path`).atCol(7)},
	},
	{
		name:  "health path missing",
		files: map[string]string{tenantFile: proxied(`interval = "5s"`)},
		want:  []wantDiag{errAt(tenantFile, 8, "Missing required argument", `The argument "path" is required`)},
	},
	{
		name:  "health path relative",
		files: map[string]string{tenantFile: proxied(`path = "healthz"`)},
		want:  []wantDiag{errAt(tenantFile, 9, "Invalid health path", `"healthz" does not start with '/'`).atCol(16)},
	},
	{
		name:  "health path with a header injected",
		files: map[string]string{tenantFile: proxied(`path = "/x HTTP/1.1\r\nHost: evil"`)},
		want:  []wantDiag{errAt(tenantFile, 9, "Invalid health path", `has the character ' '`)},
	},
	{
		name:  "health path with a line break",
		files: map[string]string{tenantFile: proxied(`path = "/x\r\nX: y"`)},
		want:  []wantDiag{errAt(tenantFile, 9, "Invalid health path", `has the character '\r'`)},
	},
	{
		name:  "health path naming a host",
		files: map[string]string{tenantFile: proxied(`path = "//evil.example/x"`)},
		want:  []wantDiag{errAt(tenantFile, 9, "Invalid health path", `starts with "//"`)},
	},
	{
		name:  "health path with a fragment",
		files: map[string]string{tenantFile: proxied(`path = "/x#y"`)},
		want:  []wantDiag{errAt(tenantFile, 9, "Invalid health path", `has the character '#'`)},
	},
	{
		name:  "health path with a broken escape",
		files: map[string]string{tenantFile: proxied(`path = "/x%2"`)},
		want:  []wantDiag{errAt(tenantFile, 9, "Invalid health path", `'%' not followed by two hexadecimal digits`)},
	},
	{
		name:  "health path too long",
		files: map[string]string{tenantFile: proxied(`path = "/` + strings.Repeat("a", spec.MaxHealthPath) + `"`)},
		want:  []wantDiag{errAt(tenantFile, 9, "Invalid health path", `is 257 characters long`)},
	},
	{
		name:  "health interval without a unit",
		files: map[string]string{tenantFile: proxied(`path = "/up"`, `interval = "10"`)},
		want:  []wantDiag{errAt(tenantFile, 10, "Invalid interval", `"10" is not a duration`).atCol(20)},
	},
	{
		name:  "health interval too short",
		files: map[string]string{tenantFile: proxied(`path = "/up"`, `interval = "500ms"`)},
		want:  []wantDiag{errAt(tenantFile, 10, "Invalid interval", "between 1s and 1h0m0s; it is 500ms")},
	},
	{
		name:  "health timeout too long",
		files: map[string]string{tenantFile: proxied(`path = "/up"`, `timeout = "2m"`)},
		want:  []wantDiag{errAt(tenantFile, 10, "Invalid timeout", "between 100ms and 1m0s; it is 2m0s")},
	},
	{
		name:  "health timeout beyond the interval",
		files: map[string]string{tenantFile: proxied(`path = "/up"`, `interval = "2s"`, `timeout = "3s"`)},
		want:  []wantDiag{errAt(tenantFile, 11, "Invalid timeout", "The timeout (3s) is longer than the interval (2s)")},
	},
	{
		name:  "health failures 0",
		files: map[string]string{tenantFile: proxied(`path = "/up"`, `failures = 0`)},
		want:  []wantDiag{errAt(tenantFile, 10, "Invalid failures", "between 1 and 100; it is 0")},
	},
	{
		name:  "health failures not a number",
		files: map[string]string{tenantFile: proxied(`path = "/up"`, `failures = "three"`)},
		want:  []wantDiag{errAt(tenantFile, 10, "Unsuitable value type", "a number is required")},
	},
	{
		name:  "health start_period too long",
		files: map[string]string{tenantFile: proxied(`path = "/up"`, `start_period = "2h"`)},
		want:  []wantDiag{errAt(tenantFile, 10, "Invalid start_period", "between 0s and 1h0m0s; it is 2h0m0s")},
	},
	{
		name:  "health unknown attribute",
		files: map[string]string{tenantFile: proxied(`path = "/up"`, `method = "POST"`)},
		want:  []wantDiag{errAt(tenantFile, 10, "Unsupported argument", `An argument named "method" is not expected here.`)},
	},
	{
		name: "duplicate health block",
		files: map[string]string{tenantFile: daemon(`proxy_path = "/app"`, `health { path = "/a" }`,
			`health { path = "/b" }`)},
		want: []wantDiag{errAt(tenantFile, 9, "Duplicate health block", `The daemon "worker" already has a health block`)},
	},
	{
		name:  "health at its bounds",
		files: map[string]string{tenantFile: proxied(`path = "/st%41tus?full=1&x=:@!$'()*+,;"`, `interval = "1h"`, `timeout = "1m"`, `failures = 100`, `start_period = "1h"`)},
	},
}

func TestValidateHealth(t *testing.T) { runValidateCases(t, healthCases) }

// TestHealthDefaults checks what an omitted attribute of a health block
// reads as, and that a short interval shortens the default timeout.
func TestHealthDefaults(t *testing.T) {
	for _, tc := range []struct {
		lines []string
		want  spec.Health
	}{
		{[]string{`path = "/healthz"`}, spec.Health{Path: "/healthz", Interval: 10 * time.Second, Timeout: 2 * time.Second, Failures: 3}},
		{[]string{`path = "/up"`, `interval = "1s"`}, spec.Health{Path: "/up", Interval: time.Second, Timeout: time.Second, Failures: 3}},
		{[]string{`path = "/up"`, `interval = "30s"`, `timeout = "5s"`, `failures = 5`, `start_period = "1m"`},
			spec.Health{Path: "/up", Interval: 30 * time.Second, Timeout: 5 * time.Second, Failures: 5, StartPeriod: time.Minute}},
	} {
		repo := baseRepo()
		repo[tenantFile] = proxied(tc.lines...)
		srcs := map[string][]byte{}
		for n, s := range repo {
			srcs[n] = []byte(s)
		}
		cfg, _, diags := spec.Load(srcs)
		if diags.HasErrors() {
			t.Fatal(diags)
		}
		h := cfg.Tenants[0].Webroots[0].Daemons[0].Health
		if h == nil || *h != tc.want {
			t.Errorf("%v: health %+v, want %+v", tc.lines, h, tc.want)
		}
	}
}
