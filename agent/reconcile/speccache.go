package reconcile

import "github.com/drover-sh/drover/spec"

// specCache is the loader of revisions: spec.Loader, the decode path of
// every drover command, which keeps decoded files by path and Git blob
// hash, so a new revision re-reads and re-parses only the files it
// changed (HCL parsing is the floor of loading a large repository).
type specCache = spec.Loader

func newSpecCache() *specCache { return spec.NewLoader() }
