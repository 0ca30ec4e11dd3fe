package spec_test

import (
	"testing"

	"github.com/drover-sh/drover/spec"
)

// TestFixedPort: the "Command listens on a fixed port" warning fires on a
// literal port a command passes to the program, and on nothing else.
func TestFixedPort(t *testing.T) {
	for cmd, want := range map[string]string{
		"node server.js --port 3000":                           "3000",
		"node server.js --port=3000":                           "3000",
		"app --http-port 8080":                                 "8080",
		"app -p 8080":                                          "8080",
		"PORT=3000 node server.js":                             "3000",
		"env PORT=3000 node server.js":                         "3000",
		"gunicorn -b 0.0.0.0:8000 app:app":                     "8000",
		"gunicorn --bind=[::]:8000 app:app":                    "8000",
		"node ws.js --listen '127.0.0.1:3000'":                 "3000",
		"sh -c 'exec node server.js --port 3000'":              "3000",
		"node server.js":                                       "",
		"node server.js --port $PORT":                          "",
		"php artisan queue:work --sleep=3 --tries=3":           "",
		"app --report 10":                                      "",
		"app --redis redis://localhost:6379":                   "",
		"app --workers 4 -t 60":                                "",
		"app --support=1234":                                   "",
		"gunicorn -b \"[$HOST]:${PORT:-8000}\" app:app":        "",
		"celery -A app worker --loglevel=INFO --concurrency=2": "",
	} {
		if got := spec.FixedPort(cmd); got != want {
			t.Errorf("FixedPort(%q) = %q, want %q", cmd, got, want)
		}
	}
}
