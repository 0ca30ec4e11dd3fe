package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/drover-sh/drover/secret"
	"github.com/drover-sh/drover/spec"
)

func init() {
	var f secretFlags
	register(&command{
		name:    "secret",
		args:    "encrypt --tenant NAME [--shard NAME] [DIR] | keygen FILE",
		summary: "Encrypt an environment value for the nodes of a shard, or make a node key.",
		help: `encrypt reads one value from standard input (never from the command line,
which other users see in ps and shells keep in history; one trailing newline
is removed) and prints it encrypted for TENANT's daemons, to the age_recipient
of every node of the shard, as one line to paste as the value:

  environment = { DB_PASSWORD = "drover:age:v1:acme:web-1:…" }

The shard is the tenant's in DIR (--shard must agree), or --shard for a
tenant not declared yet. Only the agents of that shard can decrypt it, and
only for that tenant. DIR need not be valid: encrypting again is how a value
made for an outdated node list is fixed. Exit status: 0 printed, 1 refused
(unknown shard, a node without age_recipient, a value over 32 KiB or holding
a NUL byte), 2 usage error.

keygen writes a new node key (an age X25519 identity) to FILE, mode 0600,
refusing to overwrite one, and prints its recipient: put it in the node's
block as age_recipient, and FILE in the agent configuration as
secrets.key_file.`,
		flags: func(fs *pflag.FlagSet) { f.define(fs) },
		run: func(env *cmdEnv, fs *pflag.FlagSet, args []string) int {
			return runSecret(env, fs, args, &f)
		},
		complete: completeSecret,
		repo: func(args []string) string {
			if len(args) > 1 && args[0] == "encrypt" {
				return args[1]
			}
			return ""
		},
	})
}

// completeSecret completes drover secret's subcommand, then the DIR of
// encrypt or the FILE of keygen.
func completeSecret(cc *compContext, args []string, prefix string) ([]cobra.Completion, cobra.ShellCompDirective) {
	switch {
	case len(args) == 0:
		return words("encrypt", "keygen")(cc, args, prefix)
	case len(args) == 1 && args[0] == "encrypt":
		return dirs(cc, args, prefix)
	case len(args) == 1 && args[0] == "keygen":
		return anyFile(cc, args, prefix)
	}
	return nothing(cc, args, prefix)
}

type secretFlags struct{ tenant, shard string }

func (f *secretFlags) define(fs *pflag.FlagSet) {
	fs.StringVar(&f.tenant, "tenant", "", "encrypt for the daemons of tenant `NAME` (encrypt)")
	fs.StringVar(&f.shard, "shard", "", "encrypt for the nodes of shard `NAME` (encrypt; default: the tenant's)")
}

func runSecret(env *cmdEnv, fs *pflag.FlagSet, args []string, f *secretFlags) int {
	if len(args) == 0 {
		return usageError(env, fs, "expected encrypt or keygen")
	}
	switch args[0] {
	case "encrypt":
		if f.tenant == "" {
			return usageError(env, fs, "encrypt needs --tenant NAME")
		}
		dir, code := configDir(env, fs, args[1:])
		if code != exitOK {
			return code
		}
		return runEncrypt(env, dir, f)
	case "keygen":
		if len(args) != 2 || f.tenant != "" || f.shard != "" {
			return usageError(env, fs, "keygen takes one FILE and no flags")
		}
		return runKeygen(env, args[1])
	}
	return usageError(env, fs, "unknown subcommand %q: expected encrypt or keygen", args[0])
}

// runEncrypt encrypts standard input for f.tenant on its shard.
func runEncrypt(env *cmdEnv, dir string, f *secretFlags) int {
	fail := func(format string, args ...any) int {
		fmt.Fprintf(env.stderr, "drover secret encrypt: %s\n", fmt.Sprintf(format, args...))
		return exitFailure
	}
	keys, err := readKeys(dir)
	if err != nil {
		return fail("%v", err)
	}
	shard := f.shard
	switch declared, ok := keys.Tenants[f.tenant]; {
	case ok && shard == "":
		shard = declared
	case ok && shard != declared:
		return fail("tenant %q runs on shard %q, not %q; omit --shard to use the tenant's", f.tenant, declared, shard)
	case !ok && shard == "":
		return fail("tenant %q is not declared in %s; name its shard with --shard", f.tenant, dir)
	}
	nodes, ok := keys.Shards[shard]
	if !ok {
		return fail("shard %q is not declared in %s (shards: %s)", shard, dir, strings.Join(slices.Sorted(maps.Keys(keys.Shards)), ", "))
	}
	var recipients, missing []string
	for _, n := range nodes {
		if n.Recipient == "" {
			missing = append(missing, n.Node)
			continue
		}
		if err := secret.CheckRecipient(n.Recipient); err != nil {
			return fail("the age_recipient of node %s is %v", n.Node, err)
		}
		recipients = append(recipients, n.Recipient)
	}
	if len(missing) > 0 {
		return fail("node %s of shard %s has no age_recipient: make each node a key (drover secret keygen /etc/drover/age.key) and put the recipient it prints in the node's block", strings.Join(missing, ", "), shard)
	}
	value, err := io.ReadAll(io.LimitReader(env.stdin, secret.MaxPlaintext+3))
	if err != nil {
		return fail("read the value from standard input: %v", err)
	}
	defer clear(value)
	value = bytes.TrimSuffix(value, []byte("\n"))
	switch {
	case len(value) > secret.MaxPlaintext:
		return fail("the value is larger than %d KiB", secret.MaxPlaintext>>10)
	case bytes.IndexByte(value, 0) >= 0:
		return fail("the value holds a NUL byte, which no process can receive in its environment")
	}
	sealed, err := secret.Seal(value, f.tenant, shard, recipients)
	if err != nil {
		return fail("%v", err)
	}
	fmt.Fprintln(env.stdout, sealed)
	return exitOK
}

// readKeys reads the shards' node keys and the tenants' shards from the
// config files in dir, valid or not.
func readKeys(dir string) (spec.Keys, error) {
	entries, err := spec.ReadDir(dir)
	if err != nil {
		return spec.Keys{}, fmt.Errorf("read %s: %w", dir, err)
	}
	srcs := map[string][]byte{}
	for name, e := range entries {
		if e.Kind != spec.Regular {
			continue // reported by validate; no key lives there
		}
		data, err := e.Read()
		if err != nil {
			return spec.Keys{}, fmt.Errorf("read %s: %w", name, err)
		}
		srcs[name] = data
	}
	files, _ := spec.ParseAll(srcs)
	return spec.KeysOf(files), nil
}

// runKeygen writes a new node key to path and prints its recipient.
func runKeygen(env *cmdEnv, path string) int {
	key, recipient, err := secret.NewKey()
	if err != nil {
		fmt.Fprintf(env.stderr, "drover secret keygen: %v\n", err)
		return exitFailure
	}
	defer clear(key)
	if err := writeNew(path, key); err != nil {
		fmt.Fprintf(env.stderr, "drover secret keygen: %v\n", err)
		return exitFailure
	}
	fmt.Fprintln(env.stdout, recipient)
	return exitOK
}

// writeNew writes a new private file, refusing to replace one.
func writeNew(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		if errors.Is(err, os.ErrExist) {
			return fmt.Errorf("%s exists; a node keeps its key (remove the file first to replace it, then encrypt every value of its shard again)", path)
		}
		return fmt.Errorf("write key: %w", err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("write key %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write key %s: %w", path, err)
	}
	return nil
}
