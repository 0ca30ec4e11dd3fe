package reconcile

import "github.com/drover-sh/drover/spec"

// specCache is the loader of revisions: spec.Loader, the decode path of
// every drover command, which keeps decoded files by path and Git blob
// hash, so a new revision re-reads and re-parses only the files it
// changed (HCL parsing is the floor of loading a large repository).
type specCache = spec.Loader

// newSpecCache is the loader of revisions with the configured bound on a
// revision's config files (source.max_config_mb; 0 is the default).
func newSpecCache(maxBytes int) *specCache {
	l := spec.NewLoader()
	l.MaxBytes = maxBytes
	return l
}
