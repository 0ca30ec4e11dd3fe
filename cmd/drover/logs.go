package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/pflag"

	"github.com/drover-sh/drover/agent/localapi"
	"github.com/drover-sh/drover/edit"
)

func init() {
	var socket func() (string, error)
	var o logsOptions
	register(&command{
		name:    "logs",
		args:    "TENANT/WEBROOT/DAEMON [--stderr] [-f] [-n N] [--config FILE | --socket PATH]",
		summary: "Print a daemon's output on this node, and follow it with -f.",
		help:    logsHelp,
		flags: func(fs *pflag.FlagSet) {
			fs.BoolVar(&o.stderr, "stderr", false, "print the daemon's stderr instead of its stdout")
			fs.BoolVarP(&o.follow, "follow", "f", false, "follow: print new lines as they come, until interrupted")
			fs.IntVarP(&o.lines, "lines", "n", 20, "print the last `N` lines of each process (0: none, only follow)")
			socket = socketFlags(fs)
		},
		run: func(env *cmdEnv, fs *pflag.FlagSet, args []string) int {
			if len(args) != 1 {
				return usageError(env, fs, "expected one TENANT/WEBROOT/DAEMON argument")
			}
			if _, err := edit.ParseKey(args[0]); err != nil {
				return usageError(env, fs, "%v", err)
			}
			if o.lines < 0 {
				return usageError(env, fs, "-n must be 0 or more, got %d", o.lines)
			}
			path, err := socket()
			if err != nil {
				fmt.Fprintf(env.stderr, "drover logs: %v\n", err)
				return exitFailure
			}
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			o.poll = logsPoll
			if err := runLogs(ctx, env, localapi.NewClient(path), args[0], o); err != nil {
				fmt.Fprintf(env.stderr, "drover logs: %v\n", err)
				if localapi.IsNotFound(err) {
					fmt.Fprintf(env.stderr, "drover placement says which node runs it.\n")
				}
				return exitFailure
			}
			return exitOK
		},
		complete: liveKeys,
	})
}

const logsHelp = `Prints the last lines a daemon's processes wrote to stdout (or, with
--stderr, to stderr), as supervisord logged them on this node; -f then
prints new lines as they come (every half second) until interrupted. A
daemon with num_procs > 1 prints every process, each line prefixed with
"[PROCESS] ".

The output is the tenant's: control characters other than tab, invalid
UTF-8 and bidirectional overrides are printed escaped (\x1b, \u202e), so
they cannot drive the terminal. Each stream is kept in files rotated at
10 MB with 3 old files, so what is older is gone.

Exit status: 0 when the output was printed (with -f: when interrupted);
1 when the daemon does not run on this node or the agent could not be
asked; 2 for usage errors.`

// logsPoll is how often -f asks the agent for new output.
const logsPoll = 500 * time.Millisecond

type logsOptions struct {
	stderr, follow bool
	lines          int
	poll           time.Duration
}

// runLogs prints the daemon's output, then follows it with o.follow until
// ctx ends.
func runLogs(ctx context.Context, env *cmdEnv, c *localapi.Client, key string, o logsOptions) error {
	q := localapi.LogQuery{Stream: "stdout", Bytes: min(max(localapi.DefaultLogBytes, o.lines*1024), localapi.MaxLogBytes)}
	if o.stderr {
		q.Stream = "stderr"
	}
	l, err := c.Logs(ctx, key, q)
	if err != nil {
		return err
	}
	p := &logPrinter{w: env.stdout, prefix: len(l.Procs) > 1, partial: map[string]string{}}
	q.From = map[string]int{}
	for _, pl := range l.Procs {
		p.last(pl, o.lines, o.follow)
		q.From[pl.Process] = pl.Offset
	}
	if !o.follow {
		return nil
	}
	for {
		select {
		case <-ctx.Done():
			p.flush()
			return nil
		case <-time.After(o.poll):
		}
		l, err := c.Logs(ctx, key, q)
		if ctx.Err() != nil {
			p.flush()
			return nil
		}
		if err != nil {
			return err
		}
		for _, pl := range l.Procs {
			if pl.Overflow {
				fmt.Fprintf(env.stderr, "drover logs: %s wrote more than %d bytes since the last read; the older part is skipped\n", pl.Process, q.Bytes)
			}
			p.add(pl.Process, pl.Data)
			q.From[pl.Process] = pl.Offset
		}
	}
}

// logPrinter prints processes' output line by line, made safe for a
// terminal; a line not ended yet waits for its end while following.
type logPrinter struct {
	w       io.Writer
	prefix  bool
	partial map[string]string
}

// last prints the last n lines of pl; while following, an unfinished
// last line waits for its end.
func (p *logPrinter) last(pl localapi.ProcessLog, n int, follow bool) {
	lines := strings.SplitAfter(pl.Data, "\n")
	rest := ""
	if last := lines[len(lines)-1]; !strings.HasSuffix(last, "\n") {
		lines, rest = lines[:len(lines)-1], last
	}
	if pl.Overflow && len(lines) > 0 {
		lines = lines[1:] // cut by the byte bound: its start is missing
	}
	if follow && rest != "" {
		p.partial[pl.Process] = rest
	} else if rest != "" && n > 0 {
		lines = append(lines, rest+"\n")
	}
	lines = lines[max(len(lines)-n, 0):]
	for _, l := range lines {
		p.line(pl.Process, l)
	}
}

// add prints the lines process finished with data.
func (p *logPrinter) add(process, data string) {
	data = p.partial[process] + data
	i := strings.LastIndexByte(data, '\n')
	p.partial[process] = data[i+1:]
	for _, l := range strings.SplitAfter(data[:i+1], "\n") {
		if l != "" {
			p.line(process, l)
		}
	}
}

// flush prints the unfinished lines.
func (p *logPrinter) flush() {
	for proc, rest := range p.partial {
		if rest != "" {
			p.line(proc, rest+"\n")
		}
	}
}

func (p *logPrinter) line(process, l string) {
	if p.prefix {
		fmt.Fprintf(p.w, "[%s] ", process)
	}
	fmt.Fprintln(p.w, safeText(strings.TrimSuffix(l, "\n")))
}
