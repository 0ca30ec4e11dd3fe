package gen

import (
	"fmt"
	"strconv"
	"strings"
)

// tenant is one generated tenant, written out by hcl.
type tenant struct {
	Name     string
	UID      int
	Shard    string
	Webroots []*webroot
}

type webroot struct {
	Name         string
	ServerNames  []string
	PublicFolder string
	Daemons      []*daemon
}

type daemon struct {
	Name         string
	Command      string
	ProxyPath    string
	NumProcs     int // 0: omitted (default 1)
	StopSignal   string
	StopWaitSecs int
	MaxMemoryMB  int
	Env          []envVar // written in this order
	Disabled     bool
	Port         int
	Node         string
}

type envVar struct{ Key, Value string }

// kind is a sort of daemon a hosting customer runs.
type kind struct {
	name    string
	path    string // proxy path of proxied kinds
	command string // $HOST and $PORT are expanded by /bin/sh at start
}

// proxied kinds listen on $HOST:$PORT behind nginx; every command mentions
// $PORT (else validation warns).
var proxied = []kind{
	{"reverb", "/app", "php artisan reverb:start --host=$HOST --port=$PORT"},
	{"ws", "/ws", "node server/ws.js --host $HOST --port $PORT"},
	{"socket", "/socket.io", "node dist/socket.js --listen [$HOST]:$PORT"},
	{"uvicorn", "/api/live", "python -m uvicorn app.main:app --host $HOST --port $PORT --proxy-headers"},
	{"cable", "/cable", "bundle exec puma -b 'tcp://[$HOST]:$PORT' -e production config/cable.ru"},
	{"mercure", "/hub", "env SERVER_NAME=\"[$HOST]:${PORT}\" ./bin/mercure run --config Caddyfile"},
	{"gunicorn", "/live", `gunicorn app.asgi -k uvicorn.workers.UvicornWorker -b "[$HOST]:${PORT:-8000}" --access-logfile -`},
	{"soketi", "/pusher", "soketi start --port=$PORT"},
}

// background kinds are workers without a port.
var background = []kind{
	{"queue", "", "php artisan queue:work --sleep=3 --tries=3 --max-time=3600"},
	{"scheduler", "", "php artisan schedule:work"},
	{"horizon", "", "php artisan horizon"},
	{"sidekiq", "", "bundle exec sidekiq -C config/sidekiq.yml -e production"},
	{"celery", "", "celery -A app worker --loglevel=INFO --concurrency=2"},
	{"worker", "", "node dist/worker.js >> storage/logs/worker.log 2>&1"},
	{"messenger", "", "while true; do php bin/console messenger:consume async --time-limit=3600; sleep 1; done"},
	{"beat", "", "celery -A app beat --loglevel=INFO -s /tmp/celerybeat-$USER"},
}

var secondWebroots = []string{"staging", "api", "admin", "shop"}

// newTenant builds tenant i. Its content depends on the seed, i, its shard
// name and the shard's nodes only.
func newTenant(o Options, i int, shard string, nodes []string) *tenant {
	r := newRand(o.Seed, uint64(i))
	t := &tenant{Name: TenantName(i), UID: 10000 + i, Shard: shard}
	main := &webroot{Name: "main"}
	if r.chance(0.8) {
		main.ServerNames = []string{t.Name + ".example.com", "www." + t.Name + ".example.com"}
	}
	if r.chance(0.6) {
		main.PublicFolder = "public"
	}
	t.Webroots = append(t.Webroots, main)
	if r.chance(0.3) {
		w := &webroot{Name: secondWebroots[r.intn(len(secondWebroots))]}
		if r.chance(0.7) {
			w.ServerNames = []string{w.Name + "." + t.Name + ".example.com"}
		}
		if r.chance(0.5) {
			w.PublicFolder = "web/dist"
		}
		t.Webroots = append(t.Webroots, w)
	}
	names := map[string]int{}
	paths := map[*webroot]map[string]int{}
	pins := map[int]bool{}
	for k := 0; k < o.DaemonsPerTenant; k++ {
		w := t.Webroots[0]
		if len(t.Webroots) > 1 && r.chance(0.4) {
			w = t.Webroots[1]
		}
		isProxied := r.chance(0.5)
		kd := background[r.intn(len(background))]
		if isProxied {
			kd = proxied[r.intn(len(proxied))]
		}
		d := &daemon{Name: unique(names, kd.name), Command: kd.command}
		if o.Command != "" {
			d.Command = o.Command
		}
		if isProxied {
			if paths[w] == nil {
				paths[w] = map[string]int{}
			}
			d.ProxyPath = unique(paths[w], kd.path)
			if r.chance(0.03) {
				p := 10000 + r.intn(10000)
				for pins[p] {
					p = 10000 + (p-10000+1)%10000
				}
				pins[p] = true
				d.Port = p
			}
		} else if r.chance(0.3) {
			d.NumProcs = 2
			if r.chance(0.1) {
				d.NumProcs = 4
			}
		}
		if r.chance(0.4) {
			d.MaxMemoryMB = []int{128, 256, 512, 1024}[r.intn(4)]
		}
		if r.chance(0.1) {
			d.StopSignal = []string{"QUIT", "INT", "HUP"}[r.intn(3)]
		}
		if r.chance(0.1) {
			d.StopWaitSecs = []int{10, 60, 300}[r.intn(3)]
		}
		d.Env = environment(r, t)
		if r.chance(0.03) {
			d.Node = nodes[r.intn(len(nodes))]
		}
		d.Disabled = r.chance(0.03)
		w.Daemons = append(w.Daemons, d)
	}
	return t
}

// unique returns base, or base-2, base-3, ... when already used.
func unique(used map[string]int, base string) string {
	used[base]++
	if n := used[base]; n > 1 {
		return base + "-" + strconv.Itoa(n)
	}
	return base
}

var envKeys = []string{
	"APP_ENV", "APP_DEBUG", "APP_KEY", "LOG_LEVEL", "LOG_CHANNEL", "QUEUE_CONNECTION", "REDIS_URL",
	"DB_HOST", "DB_DATABASE", "DB_PASSWORD", "SENTRY_DSN", "TZ", "NODE_ENV", "MAIL_FROM_NAME",
}

// environment returns 3 to 5 variables, a few with values that need care on
// their way to the process: quotes, '%', '$', ' ;', ' #', backslashes, UTF-8.
func environment(r *rng, t *tenant) []envVar {
	n := 3 + r.intn(3)
	perm := r.perm(len(envKeys))
	keys := make([]string, n)
	for i := range keys {
		keys[i] = envKeys[perm[i]]
	}
	env := make([]envVar, n)
	for i, k := range keys {
		var v string
		switch k {
		case "APP_ENV":
			v = []string{"production", "production", "staging"}[r.intn(3)]
		case "APP_DEBUG":
			v = "false"
		case "APP_KEY":
			v = "base64:" + r.token(43, base64Chars) + "="
		case "LOG_LEVEL":
			v = []string{"info", "warning", "debug", "error"}[r.intn(4)]
		case "LOG_CHANNEL":
			v = "stack"
		case "QUEUE_CONNECTION":
			v = "redis"
		case "REDIS_URL":
			v = fmt.Sprintf("redis://redis-%d.internal:6379/%d", 1+r.intn(4), r.intn(16))
		case "DB_HOST":
			v = fmt.Sprintf("db-%d.internal", 1+r.intn(8))
		case "DB_DATABASE":
			v = t.Name
		case "DB_PASSWORD":
			v = r.token(20, secretChars)
		case "SENTRY_DSN":
			v = fmt.Sprintf("https://%s@sentry.example.com/%d", r.token(32, hexChars), 1+r.intn(500))
		case "TZ":
			v = []string{"UTC", "Europe/Oslo", "America/New_York"}[r.intn(3)]
		case "NODE_ENV":
			v = "production"
		case "MAIL_FROM_NAME":
			v = []string{`Acme & Co; "Support"`, "Blåbær AS #1", `50% off \o/`, "${APP_NAME}"}[r.intn(4)]
		}
		env[i] = envVar{k, v}
	}
	return env
}

const (
	base64Chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	hexChars    = "0123456789abcdef"
	secretChars = `ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789%$"#;\{}, '`
)

// hcl writes the tenant as an HCL file.
func (t *tenant) hcl() []byte {
	var b strings.Builder
	b.Grow(1024)
	fmt.Fprintf(&b, "# Generated by repogen.\ntenant %q {\n", t.Name)
	attrs(&b, "  ", []attr{{"uid", strconv.Itoa(t.UID)}, {"shard", quote(t.Shard)}})
	for _, w := range t.Webroots {
		fmt.Fprintf(&b, "\n  webroot %q {\n", w.Name)
		var as []attr
		if len(w.ServerNames) > 0 {
			q := make([]string, len(w.ServerNames))
			for i, s := range w.ServerNames {
				q[i] = quote(s)
			}
			as = append(as, attr{"server_names", "[" + strings.Join(q, ", ") + "]"})
		}
		if w.PublicFolder != "" {
			as = append(as, attr{"public_folder", quote(w.PublicFolder)})
		}
		attrs(&b, "    ", as)
		for _, d := range w.Daemons {
			if len(as) > 0 || d != w.Daemons[0] {
				b.WriteString("\n")
			}
			fmt.Fprintf(&b, "    daemon %q {\n", d.Name)
			da := []attr{{"command", quote(d.Command)}}
			if d.ProxyPath != "" {
				da = append(da, attr{"proxy_path", quote(d.ProxyPath)})
			}
			if d.NumProcs != 0 {
				da = append(da, attr{"num_procs", strconv.Itoa(d.NumProcs)})
			}
			if d.StopSignal != "" {
				da = append(da, attr{"stop_signal", quote(d.StopSignal)})
			}
			if d.StopWaitSecs != 0 {
				da = append(da, attr{"stop_wait_secs", strconv.Itoa(d.StopWaitSecs)})
			}
			if d.MaxMemoryMB != 0 {
				da = append(da, attr{"max_memory_mb", strconv.Itoa(d.MaxMemoryMB)})
			}
			if d.Disabled {
				da = append(da, attr{"enabled", "false"})
			}
			if d.Port != 0 {
				da = append(da, attr{"port", strconv.Itoa(d.Port)})
			}
			if d.Node != "" {
				da = append(da, attr{"node", quote(d.Node)})
			}
			attrs(&b, "      ", da)
			if len(d.Env) > 0 {
				b.WriteString("      environment = {\n")
				ea := make([]attr, len(d.Env))
				for i, e := range d.Env {
					ea[i] = attr{e.Key, quote(e.Value)}
				}
				attrs(&b, "        ", ea)
				b.WriteString("      }\n")
			}
			b.WriteString("    }\n")
		}
		b.WriteString("  }\n")
	}
	b.WriteString("}\n")
	return []byte(b.String())
}

type attr struct{ key, value string }

// attrs writes attributes with their '=' aligned, as hclfmt does.
func attrs(b *strings.Builder, indent string, as []attr) {
	width := 0
	for _, a := range as {
		width = max(width, len(a.key))
	}
	for _, a := range as {
		b.WriteString(indent)
		b.WriteString(a.key)
		b.WriteString(strings.Repeat(" ", width-len(a.key)))
		b.WriteString(" = ")
		b.WriteString(a.value)
		b.WriteString("\n")
	}
}

// quote writes s as an HCL quoted template that evaluates to s exactly:
// quotes, backslashes and control characters are escaped, and "${" and "%{",
// which would start an interpolation or directive, are written "$${" and
// "%%{".
func quote(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"':
			b.WriteString(`\"`)
		case c == '\\':
			b.WriteString(`\\`)
		case c == '\n':
			b.WriteString(`\n`)
		case c == '\r':
			b.WriteString(`\r`)
		case c == '\t':
			b.WriteString(`\t`)
		case c < 0x20 || c == 0x7f:
			fmt.Fprintf(&b, `\u%04x`, c)
		case (c == '$' || c == '%') && i+1 < len(s) && s[i+1] == '{':
			b.WriteByte(c)
			b.WriteByte(c)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}
