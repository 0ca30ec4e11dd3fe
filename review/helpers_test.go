package review_test

import "github.com/go-git/go-git/v5/plumbing"

// hashOf is the Git blob hash of data, as gitrev computes it.
func hashOf(data []byte) string { return plumbing.ComputeHash(plumbing.BlobObject, data).String() }
