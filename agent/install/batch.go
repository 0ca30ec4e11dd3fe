package install

import (
	"io/fs"
	"os"
	"path/filepath"
	"sync"
)

// Write is one file for WriteFiles.
type Write struct {
	Path string
	Data []byte
	Mode fs.FileMode
}

// BatchWriter is an FS that writes many files more cheaply than one at a
// time.
type BatchWriter interface {
	// WriteFiles writes every file as WriteFile would; errs[i] is the
	// error for files[i]. All are on disk when it returns.
	WriteFiles(files []Write) (errs []error)
}

// WriteFiles writes files with fsys's WriteFiles when it has one, else one
// at a time.
func WriteFiles(fsys FS, files []Write) []error {
	if b, ok := fsys.(BatchWriter); ok {
		return b.WriteFiles(files)
	}
	errs := make([]error, len(files))
	for i, f := range files {
		errs[i] = fsys.WriteFile(f.Path, f.Data, f.Mode)
	}
	return errs
}

// batchWorkers bounds the files OS.WriteFiles writes at once.
const batchWorkers = 8

// WriteFiles writes each file as WriteFile does (a temporary file, synced,
// renamed over the path), several at once, but syncs each directory once
// after all renames instead of once per file: the first converge of a node
// writes 3,000 exec specs into one directory, and the directory sync per
// file doubled the time of that step (4 s of 3,033 writes, 1.6 s without).
// A file is old or new at any moment, never a mix; a failed directory sync
// fails every file of that directory.
func (o OS) WriteFiles(files []Write) []error {
	errs := make([]error, len(files))
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(batchWorkers, len(files)) {
		wg.Go(func() {
			for i := range next {
				errs[i] = o.replace(files[i].Path, files[i].Data, files[i].Mode)
			}
		})
	}
	for i := range files {
		next <- i
	}
	close(next)
	wg.Wait()
	synced := map[string]error{}
	for i, f := range files {
		if errs[i] != nil {
			continue
		}
		dir := filepath.Dir(f.Path)
		err, ok := synced[dir]
		if !ok {
			err = syncDir(dir)
			synced[dir] = err
		}
		errs[i] = err
	}
	return errs
}

var _ BatchWriter = OS{}

// syncDir fsyncs a directory (a variable: tests count the calls).
var syncDir = func(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
