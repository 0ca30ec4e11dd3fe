package spec

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
)

// Health is a proxied daemon's health check: the agent sends an HTTP GET
// for Path to the daemon's $HOST:$PORT every Interval, and restarts the
// daemon after Failures failed probes in a row (design.md §6.17).
type Health struct {
	// Path is the request target: an absolute path, perhaps with a query.
	Path     string
	Interval time.Duration
	Timeout  time.Duration
	Failures int
	// StartPeriod is how long after its start a daemon is left alone
	// before the first probe (which comes an interval or so later still).
	StartPeriod time.Duration
}

// Defaults and bounds of a health block's attributes, inclusive.
const (
	DefaultHealthInterval = 10 * time.Second
	DefaultHealthTimeout  = 2 * time.Second
	DefaultHealthFailures = 3
	MinHealthInterval     = time.Second
	MaxHealthInterval     = time.Hour
	MinHealthTimeout      = 100 * time.Millisecond
	MaxHealthTimeout      = time.Minute
	MinHealthFailures     = 1
	MaxHealthFailures     = 100
	MaxHealthStartPeriod  = time.Hour
	// MaxHealthPath bounds the path: it goes onto the wire in the request
	// line.
	MaxHealthPath = 256
)

// String is the block as drover plan shows it added or removed, every
// value spelled out.
func (h *Health) String() string {
	var b strings.Builder
	for i, a := range h.Attrs() {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(a[0] + "=" + a[1])
	}
	return b.String()
}

// Attrs are the block's attributes as name and value, defaults applied,
// in the order of its schema: drover plan compares them one by one.
func (h *Health) Attrs() [][2]string {
	return [][2]string{
		{"path", h.Path}, {"interval", h.Interval.String()}, {"timeout", h.Timeout.String()},
		{"failures", strconv.Itoa(h.Failures)}, {"start_period", h.StartPeriod.String()},
	}
}

// healthSchema is the schema of a health block.
var healthSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
	{Name: "path", Required: true}, {Name: "interval"}, {Name: "timeout"}, {Name: "failures"}, {Name: "start_period"},
}}

// rawHealth is a health block as written; a duration is a string until
// it is checked.
type rawHealth struct {
	DefRange          span
	Path              string
	PathRange         span
	Interval, Timeout *string
	IntervalRange     span
	TimeoutRange      span
	Failures          *int
	FailuresRange     span
	StartPeriod       *string
	StartPeriodRange  span
}

// health reads a daemon's health blocks; a second one is an error.
func (d *decoder) health(r *rawDaemon, blocks hcl.Blocks) {
	for _, b := range blocks {
		if r.health != nil {
			rng := b.DefRange
			d.diags = append(d.diags, errorAt(rng, "Duplicate health block",
				"The daemon %q already has a health block; a daemon has at most one. Merge the two.", r.Name))
			continue
		}
		h := &rawHealth{DefRange: spanOf(b.DefRange)}
		c := d.content(b.Body, healthSchema)
		h.PathRange, _ = d.value(c, "path", &h.Path)
		h.Interval = optional[string](d, c, "interval", &h.IntervalRange)
		h.Timeout = optional[string](d, c, "timeout", &h.TimeoutRange)
		h.Failures = optional[int](d, c, "failures", &h.FailuresRange)
		h.StartPeriod = optional[string](d, c, "start_period", &h.StartPeriodRange)
		r.health = h
	}
}

// buildHealth checks a daemon's health block and builds its model; the
// daemon's other attributes are built (proxy_path is read).
func (f *File) buildHealth(d *Daemon, rh *rawHealth) (*Health, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	h := &Health{Path: rh.Path, Interval: DefaultHealthInterval, Timeout: DefaultHealthTimeout, Failures: DefaultHealthFailures}
	if d.ProxyPath == "" {
		diags = append(diags, errorAt(f.rng(rh.DefRange), "Health check without proxy_path",
			"The daemon %q has a health block but no proxy_path: only a proxied daemon has an address and port ($HOST:$PORT) to probe. Add a proxy_path or remove the health block.", d.Name))
	}
	if !f.failedAt(rh.PathRange) {
		diags = append(diags, checkHealthPath(rh.Path, f.rng(rh.PathRange))...)
	}
	duration := func(name string, s *string, rng span, lo, hi time.Duration, into *time.Duration) {
		if s == nil || f.failedAt(rng) {
			return
		}
		v, err := time.ParseDuration(*s)
		switch {
		case err != nil:
			diags = append(diags, errorAt(f.rng(rng), "Invalid "+name,
				"%q is not a duration. Write a number with a unit, like \"10s\", \"500ms\" or \"2m\".", *s))
		case v < lo || v > hi:
			diags = append(diags, errorAt(f.rng(rng), "Invalid "+name,
				"The %s must be between %s and %s; it is %s.", name, lo, hi, v))
		default:
			*into = v
		}
	}
	duration("interval", rh.Interval, rh.IntervalRange, MinHealthInterval, MaxHealthInterval, &h.Interval)
	if rh.Timeout == nil {
		h.Timeout = min(h.Timeout, h.Interval)
	}
	duration("timeout", rh.Timeout, rh.TimeoutRange, MinHealthTimeout, MaxHealthTimeout, &h.Timeout)
	duration("start_period", rh.StartPeriod, rh.StartPeriodRange, 0, MaxHealthStartPeriod, &h.StartPeriod)
	if rh.Failures != nil && !f.failedAt(rh.FailuresRange) {
		h.Failures = *rh.Failures
		diags = append(diags, checkRange("failures", h.Failures, MinHealthFailures, MaxHealthFailures, f.rng(rh.FailuresRange))...)
	}
	if h.Timeout > h.Interval && rh.Timeout != nil && !diags.HasErrors() {
		diags = append(diags, errorAt(f.rng(rh.TimeoutRange), "Invalid timeout",
			"The timeout (%s) is longer than the interval (%s): a probe must end before the next one. Shorten the timeout or lengthen the interval.", h.Timeout, h.Interval))
	}
	return h, diags
}

// checkHealthPath checks a health path: it goes onto the wire as the
// request target, so it is an absolute path of URL characters (a query
// allowed), never a space, a control character or a fragment, and its
// escapes are complete.
func checkHealthPath(p string, rng hcl.Range) hcl.Diagnostics {
	bad := func(why string) hcl.Diagnostics {
		return hcl.Diagnostics{errorAt(rng, "Invalid health path",
			"The health path %q %s. Write an absolute path like \"/healthz\" or \"/status?full=1\": at most %d characters of letters, digits and - . _ ~ ! $ & ' ( ) * + , ; = : @ / ?, with %%XX for anything else.",
			p, why, MaxHealthPath)}
	}
	switch {
	case !strings.HasPrefix(p, "/"):
		return bad("does not start with '/'")
	case strings.HasPrefix(p, "//"):
		return bad("starts with \"//\", which reads as a host name")
	case len(p) > MaxHealthPath:
		return bad(fmt.Sprintf("is %d characters long", len(p)))
	}
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c == '%':
			if i+2 >= len(p) || !isHex(p[i+1]) || !isHex(p[i+2]) {
				return bad("has a '%' not followed by two hexadecimal digits")
			}
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9',
			strings.IndexByte("-._~!$&'()*+,;=:@/?", c) >= 0:
		default:
			return bad(fmt.Sprintf("has the character %q", rune(c)))
		}
	}
	return nil
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}
