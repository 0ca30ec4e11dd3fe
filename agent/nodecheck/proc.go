package nodecheck

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// NginxWorkers reads procRoot (/proc) for nginx's master and worker
// processes, by the titles nginx gives them ("nginx: master process …",
// "nginx: worker process"), and the workers' real users; lookup names a
// uid ("" when unknown). Only the first bytes of each process's cmdline
// and status are read: a process can make its title anything, so a
// title is a hint, which is all a status needs.
//
// Only an nginx in the reader's network namespace counts (procRoot/self):
// it is the one that connects to the tenant addresses the agent applies
// there; an nginx of another namespace (a container, another node on a
// test machine) is not this node's. When the namespaces cannot be read,
// every nginx counts.
func NginxWorkers(procRoot string, lookup func(uint32) string) Nginx {
	entries, err := os.ReadDir(procRoot)
	if err != nil {
		return Nginx{Err: fmt.Errorf("read %s: %w", procRoot, err)}
	}
	ours, _ := os.Readlink(filepath.Join(procRoot, "self", "ns", "net"))
	var n Nginx
	for _, e := range entries {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		dir := filepath.Join(procRoot, e.Name())
		title := readHead(filepath.Join(dir, "cmdline"), 64)
		isMaster := bytes.HasPrefix(title, []byte("nginx: master process"))
		isWorker := bytes.HasPrefix(title, []byte("nginx: worker process"))
		if !isMaster && !isWorker || !sameNetns(dir, ours) {
			continue
		}
		if isMaster {
			n.Master = true
		} else if uid, ok := realUID(readHead(filepath.Join(dir, "status"), 4096)); ok {
			n.Workers = append(n.Workers, User{UID: uid, Name: lookup(uid)})
		}
	}
	return n
}

// sameNetns reports whether the process of dir is in the network
// namespace ours names ("net:[INODE]"; "" when unknown: every process is).
func sameNetns(dir, ours string) bool {
	if ours == "" {
		return true
	}
	theirs, err := os.Readlink(filepath.Join(dir, "ns", "net"))
	return err != nil || theirs == ours
}

// readHead reads at most max bytes of a file (nil when it cannot be read:
// the process ended).
func readHead(path string, max int) []byte {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	b := make([]byte, max)
	k, _ := f.Read(b)
	return b[:k]
}

// realUID is the first number of the "Uid:" line of /proc/PID/status.
func realUID(status []byte) (uint32, bool) {
	for _, line := range strings.Split(string(status), "\n") {
		if rest, ok := strings.CutPrefix(line, "Uid:"); ok {
			f := strings.Fields(rest)
			if len(f) == 0 {
				return 0, false
			}
			uid, err := strconv.ParseUint(f[0], 10, 32)
			return uint32(uid), err == nil
		}
	}
	return 0, false
}
