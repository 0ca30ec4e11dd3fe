package spec_test

import (
	"bytes"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/rogpeppe/go-internal/txtar"

	"github.com/drover-sh/drover/spec"
)

// FuzzLoad loads a one-file repo, in native syntax or (json) JSON syntax,
// or a repo of several files when src is a txtar archive ("-- name --"
// lines). Load must not panic, crash or hang, a Config must come only
// without errors, and every located diagnostic must point into one of the
// files.
func FuzzLoad(f *testing.F) {
	examples, err := filepath.Glob("../examples/config/*/*.hcl")
	if err != nil {
		f.Fatal(err)
	}
	examples = append(examples, "../examples/config/cluster.hcl")
	var all strings.Builder
	for _, name := range examples {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, false)
		all.Write(b)
	}
	f.Add([]byte(all.String()), false) // the whole example repo as one file
	base := baseRepo()
	whole := base[clusterFile] + base[shardFile]
	f.Add([]byte(whole+base[tenantFile]), false)
	for _, tc := range validateCases {
		if len(tc.files) != 1 || len(tc.drop) > 0 {
			continue
		}
		for name, src := range tc.files {
			f.Add([]byte(whole+src), false)
			f.Add([]byte(src), strings.HasSuffix(name, ".json"))
		}
	}
	f.Add([]byte(tenantJSON(`"/app"`)), true)
	// Multi-file repositories, and what the bounds stop.
	f.Add(archive(base), false)
	for _, tc := range hostileCases {
		repo := baseRepo()
		for n, src := range tc.files {
			repo[n] = src
		}
		if a := archive(repo); len(a) < 1<<20 {
			f.Add(a, false)
		}
	}
	f.Add([]byte(daemonCmd(`"`+loops(3, "x")+`"`)), false)
	f.Add([]byte(daemonCmd("<<EOT\n"+loops(2, "${v0}")+"\nEOT")), false)
	f.Add([]byte(daemon(`environment = { A = `+nest("[", "", "]", 40)+` }`)), false)
	f.Add([]byte(daemon(`num_procs = `+strings.Repeat("true ? -", 20)+"1"+strings.Repeat(" : 1", 20))), false)
	f.Add([]byte(`{"tenant": `+nest(`{"a": [`, "1", "]}", 20)+`}`), true)
	f.Add([]byte(daemonCmd(`"`+strings.Repeat("a", spec.MaxCommandBytes+1)+`"`)), false)

	f.Fuzz(func(t *testing.T, src []byte, json bool) {
		name := "config.hcl"
		if json {
			name = "config.hcl.json"
		}
		srcs := map[string][]byte{name: src}
		if bytes.HasPrefix(src, []byte("-- ")) {
			srcs = unarchive(src)
		}
		var (
			cfg   *spec.Config
			files spec.Sources
			diags hcl.Diagnostics
		)
		done := make(chan struct{})
		go func() {
			defer close(done)
			cfg, files, diags = spec.Load(srcs)
		}()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatalf("Load did not return within 10s")
		}
		if cfg != nil && diags.HasErrors() {
			t.Errorf("config returned with errors: %v", diags)
		}
		for _, d := range diags {
			if d.Subject == nil {
				continue
			}
			if _, ok := srcs[d.Subject.Filename]; !ok {
				t.Errorf("diagnostic %q points at file %q, which is not in the repo", d.Summary, d.Subject.Filename)
			}
		}
		// The CLI prints every diagnostic with its source snippet.
		if err := (spec.DiagnosticPrinter{Width: 80, AllWarnings: true}).Write(io.Discard, files, diags); err != nil {
			t.Errorf("WriteDiagnostics: %v", err)
		}
	})
}

// archive writes a repository as a txtar archive, files in name order.
func archive(files map[string]string) []byte {
	a := &txtar.Archive{}
	for _, n := range slices.Sorted(maps.Keys(files)) {
		a.Files = append(a.Files, txtar.File{Name: n, Data: []byte(files[n])})
	}
	return txtar.Format(a)
}

// unarchive reads a txtar archive as a repository; a name that is not a
// config file's gets ".hcl" (the readers would not list it). (Not
// txtar.Parse: go-internal's panics on "-- --"-like lines.)
func unarchive(src []byte) map[string][]byte {
	srcs := map[string][]byte{}
	name := ""
	var data []byte
	flush := func() {
		if name != "" {
			if !spec.IsConfigFile(name) {
				name += ".hcl"
			}
			srcs[name] = data
		}
	}
	for _, line := range bytes.SplitAfter(src, []byte("\n")) {
		t := bytes.TrimSpace(line)
		if len(t) >= 7 && bytes.HasPrefix(t, []byte("-- ")) && bytes.HasSuffix(t, []byte(" --")) {
			flush()
			name, data = string(bytes.TrimSpace(t[3:len(t)-3])), nil
			continue
		}
		data = append(data, line...)
	}
	flush()
	return srcs
}
