package review_test

import (
	"strings"
	"testing"

	"github.com/drover-sh/drover/review"
)

// TestSummaryWording: counts read as English — "both nodes", never "all 2
// nodes".
func TestSummaryWording(t *testing.T) {
	s := shard("web-1", "web-1a:1", "web-1b:2")
	proxied := func(path string) string {
		return "    daemon \"ws\" {\n      command    = \"serve\"\n      proxy_path = \"" + path + "\"\n    }\n"
	}
	base := load(t, map[string]string{"c.hcl": clusterHCL, "s.hcl": s, "t.hcl": tenant("t", "web-1", 10000, 0, proxied("/a"))})
	head := load(t, map[string]string{"c.hcl": clusterHCL, "s.hcl": s, "t.hcl": tenant("t", "web-1", 10000, 0, proxied("/b"))})
	sum := compute(t, base, head).Summary()
	if !strings.Contains(sum, "nginx reload on both nodes") || strings.Contains(sum, "all 2") {
		t.Errorf("summary %q, want it to say \"nginx reload on both nodes\"", sum)
	}
	text := writeAll(t, &review.Report{Plan: compute(t, base, head)}, "text")
	for _, bad := range []string{"all 2 nodes"} {
		if strings.Contains(text, bad) {
			t.Errorf("text says %q:\n%s", bad, text)
		}
	}
}
