package main

import (
	"fmt"
	"runtime/debug"

	"github.com/spf13/pflag"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func init() {
	register(&command{
		name:    "version",
		summary: "Print drover's version.",
		run: func(env *cmdEnv, fs *pflag.FlagSet, args []string) int {
			if len(args) > 0 {
				return usageError(env, fs, "takes no arguments")
			}
			rev := ""
			if bi, ok := debug.ReadBuildInfo(); ok {
				for _, s := range bi.Settings {
					if s.Key == "vcs.revision" {
						rev = " (" + s.Value + ")"
					}
				}
			}
			fmt.Fprintf(env.stdout, "drover %s%s\n", version, rev)
			return exitOK
		},
	})
}
