package supervisor

import (
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// This file is the Fake's model of how supervisord 4.2 reads its included
// configuration files: Python's configparser with inline comments (" ;" and
// " #"), non-strict (a section or key given twice is merged, the later one
// winning, also across files, which are read in sorted order), option names
// lower-cased, and [program:x] sections turned into groups. Other sections
// are ignored.

// fakeProgram is one [program:x] section as supervisord would load it.
type fakeProgram struct {
	name      string
	settings  map[string]string // effective settings: defaults filled in, booleans and numbers normalised
	autostart bool
	procs     []string // process names, in process_num order
}

// equal reports whether supervisord would see no change between two loads
// of a program: it compares parsed configurations, so comments, whitespace,
// key order and spelling out a default make no difference.
func (p *fakeProgram) equal(q *fakeProgram) bool {
	return maps.Equal(p.settings, q.settings)
}

// programDefaults are supervisord's defaults for the keys drover writes.
var programDefaults = map[string]string{
	"numprocs":        "1",
	"numprocs_start":  "0",
	"process_name":    "%(program_name)s",
	"autostart":       "true",
	"autorestart":     "unexpected",
	"startsecs":       "1",
	"startretries":    "3",
	"stopsignal":      "TERM",
	"stopwaitsecs":    "10",
	"stopasgroup":     "false",
	"killasgroup":     "false",
	"redirect_stderr": "false",
	"priority":        "999",
	"exitcodes":       "0",
}

var (
	boolKeys = []string{"autostart", "stopasgroup", "killasgroup", "redirect_stderr"}
	intKeys  = []string{"numprocs", "numprocs_start", "startsecs", "startretries", "stopwaitsecs", "priority"}
)

// parsePrograms reads the files (name → text) the way supervisord's
// reloadConfig does. Errors read like supervisord's CANT_REREAD texts.
func parsePrograms(files map[string][]byte) (map[string]*fakeProgram, error) {
	sections := map[string]map[string]string{}
	for _, file := range slices.Sorted(maps.Keys(files)) {
		if err := parseINI(file, string(files[file]), sections); err != nil {
			return nil, err
		}
	}
	progs := map[string]*fakeProgram{}
	for section, kv := range sections {
		name, ok := strings.CutPrefix(section, "program:")
		if !ok {
			continue
		}
		p, err := newFakeProgram(name, kv)
		if err != nil {
			return nil, fmt.Errorf("%v in section '%s'", err, section)
		}
		progs[name] = p
	}
	return progs, nil
}

// parseINI merges one file's sections into sections.
func parseINI(file, text string, sections map[string]map[string]string) error {
	var cur map[string]string
	var lastKey string
	for i, line := range strings.Split(text, "\n") {
		line = strings.TrimRight(line, "\r")
		trimmed := strings.TrimSpace(line)
		if trimmed == "" || trimmed[0] == ';' || trimmed[0] == '#' {
			lastKey = ""
			continue
		}
		line = stripInlineComment(line)
		trimmed = strings.TrimSpace(line)
		if trimmed == "" {
			continue
		}
		if line[0] == ' ' || line[0] == '\t' {
			if cur == nil || lastKey == "" {
				return fmt.Errorf("file %s line %d: unexpected indented line", file, i+1)
			}
			cur[lastKey] += "\n" + trimmed
			continue
		}
		if trimmed[0] == '[' && trimmed[len(trimmed)-1] == ']' {
			name := trimmed[1 : len(trimmed)-1]
			if sections[name] == nil {
				sections[name] = map[string]string{}
			}
			cur, lastKey = sections[name], ""
			continue
		}
		if cur == nil {
			return fmt.Errorf("file %s contains no section headers (line %d)", file, i+1)
		}
		j := strings.IndexAny(trimmed, "=:")
		if j <= 0 {
			return fmt.Errorf("file %s line %d: not a key=value line: %q", file, i+1, trimmed)
		}
		lastKey = strings.ToLower(strings.TrimSpace(trimmed[:j]))
		cur[lastKey] = strings.TrimSpace(trimmed[j+1:])
	}
	return nil
}

// stripInlineComment cuts a line at the first ';' or '#' preceded by
// whitespace, as supervisord's configparser does (even inside quotes).
func stripInlineComment(line string) string {
	for i := 1; i < len(line); i++ {
		if (line[i] == ';' || line[i] == '#') && (line[i-1] == ' ' || line[i-1] == '\t') {
			return line[:i]
		}
	}
	return line
}

func newFakeProgram(name string, kv map[string]string) (*fakeProgram, error) {
	if kv["command"] == "" {
		return nil, errors.New("program section does not specify a command")
	}
	s := maps.Clone(kv)
	for k, v := range programDefaults {
		if _, ok := s[k]; !ok {
			s[k] = v
		}
	}
	for _, k := range boolKeys {
		b, err := parseBool(s[k])
		if err != nil {
			return nil, fmt.Errorf("%s: %v", k, err)
		}
		s[k] = strconv.FormatBool(b)
	}
	for _, k := range intKeys {
		n, err := strconv.Atoi(s[k])
		if err != nil {
			return nil, fmt.Errorf("%s: not an integer: %q", k, s[k])
		}
		s[k] = strconv.Itoa(n)
	}
	s["stopsignal"] = strings.TrimPrefix(strings.ToUpper(s["stopsignal"]), "SIG")
	p := &fakeProgram{name: name, settings: s, autostart: s["autostart"] == "true"}
	numprocs, _ := strconv.Atoi(s["numprocs"])
	start, _ := strconv.Atoi(s["numprocs_start"])
	if numprocs < 0 {
		return nil, fmt.Errorf("numprocs must be >= 0, not %d", numprocs)
	}
	if numprocs > 1 && !strings.Contains(s["process_name"], "%(process_num)") {
		return nil, fmt.Errorf("%%(process_num) must be present within process_name when numprocs > 1")
	}
	for n := start; n < start+numprocs; n++ {
		proc, err := expand(s["process_name"], map[string]any{
			"program_name": name, "group_name": name, "process_num": n, "numprocs": numprocs,
		})
		if err != nil {
			return nil, err
		}
		if slices.Contains(p.procs, proc) {
			return nil, fmt.Errorf("process_name %q gives two processes the name %q", s["process_name"], proc)
		}
		p.procs = append(p.procs, proc)
	}
	return p, nil
}

// parseBool is supervisord's datatypes.boolean.
func parseBool(v string) (bool, error) {
	switch strings.ToLower(v) {
	case "yes", "true", "on", "1":
		return true, nil
	case "no", "false", "off", "0":
		return false, nil
	}
	return false, fmt.Errorf("not a valid boolean value: %q", v)
}

var expansionRE = regexp.MustCompile(`%\(([a-z_]+)\)([-#0 +]*[0-9]*)([sd])|%%`)

// expand performs supervisord's Python %-expansions, e.g.
// %(program_name)s_%(process_num)02d.
func expand(format string, vars map[string]any) (string, error) {
	var err error
	out := expansionRE.ReplaceAllStringFunc(format, func(m string) string {
		if m == "%%" {
			return "%"
		}
		sub := expansionRE.FindStringSubmatch(m)
		v, ok := vars[sub[1]]
		if !ok {
			err = fmt.Errorf("format string %q refers to an unknown expansion %s", format, sub[1])
			return ""
		}
		if _, isInt := v.(int); sub[3] == "d" && !isInt {
			err = fmt.Errorf("format string %q formats %s, a string, as a number", format, sub[1])
			return ""
		}
		return fmt.Sprintf("%"+sub[2]+map[string]string{"s": "v", "d": "d"}[sub[3]], v)
	})
	return out, err
}
