package nodecheck

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/drover-sh/drover/internal/regular"
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
	n, _ := nginxWorkers(procRoot, lookup)
	return n
}

// nginxWorkers is NginxWorkers, and the PIDs of the masters it found.
func nginxWorkers(procRoot string, lookup func(uint32) string) (Nginx, []string) {
	entries, err := os.ReadDir(procRoot)
	if err != nil {
		return Nginx{Err: fmt.Errorf("read %s: %w", procRoot, err)}, nil
	}
	ours, _ := os.Readlink(filepath.Join(procRoot, "self", "ns", "net"))
	var n Nginx
	var masters []string
	for _, e := range entries {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		if nginxProcess(procRoot, e.Name(), ours, lookup, &n) == master {
			masters = append(masters, e.Name())
		}
	}
	return n, masters
}

type processKind int

const (
	other processKind = iota
	master
	worker
)

// nginxProcess reads the title of process pid and adds it to n when it is
// an nginx master or worker of the network namespace ours.
func nginxProcess(procRoot, pid, ours string, lookup func(uint32) string, n *Nginx) processKind {
	dir := filepath.Join(procRoot, pid)
	// The command name is the executable's, which nginx's titles leave as
	// it is: the kernel copies it from the process's task, while a title
	// is read out of the process's memory (some ten times the cost, on a
	// node of 3,000 daemons most of a full read). Only a process whose
	// command name starts with "nginx" has its title read.
	if !bytes.HasPrefix(readHead(filepath.Join(dir, "comm"), 16), []byte("nginx")) {
		return other
	}
	title := readHead(filepath.Join(dir, "cmdline"), 64)
	isMaster := bytes.HasPrefix(title, []byte("nginx: master process"))
	isWorker := bytes.HasPrefix(title, []byte("nginx: worker process"))
	if !isMaster && !isWorker || !sameNetns(dir, ours) {
		return other
	}
	if isMaster {
		n.Master = true
		return master
	}
	if uid, ok := realUID(readHead(filepath.Join(dir, "status"), 4096)); ok {
		n.Workers = append(n.Workers, User{UID: uid, Name: lookup(uid)})
	}
	return worker
}

// A Scanner is NginxWorkers for a check that runs again and again: reading
// every process's title costs about 0.3 ms each (the kernel reads it from
// the process's memory), a second of CPU on a node running 3,000 daemons.
// After a full read it reads only the masters it found and their children
// (/proc/PID/task/PID/children), and reads everything again when a master
// is gone or not readable, and every fullEvery checks (a second nginx
// started beside the first is seen then). Not safe for concurrent use.
type Scanner struct {
	ProcRoot string
	masters  []string
	since    int // checks from the masters since the last full read
}

// fullEvery is how often a Scanner reads every process anyway.
const fullEvery = 6

// Nginx is NginxWorkers(s.ProcRoot, lookup), read cheaply when it can be.
func (s *Scanner) Nginx(lookup func(uint32) string) Nginx {
	if len(s.masters) > 0 && s.since < fullEvery {
		if n, ok := s.fromMasters(lookup); ok {
			s.since++
			return n
		}
	}
	n, masters := nginxWorkers(s.ProcRoot, lookup)
	s.masters, s.since = masters, 0
	return n
}

// fromMasters reads the remembered masters and their children; ok is
// false when a master is no longer one of ours or its children cannot be
// read.
func (s *Scanner) fromMasters(lookup func(uint32) string) (Nginx, bool) {
	ours, _ := os.Readlink(filepath.Join(s.ProcRoot, "self", "ns", "net"))
	var n Nginx
	for _, pid := range s.masters {
		if nginxProcess(s.ProcRoot, pid, ours, lookup, &n) != master {
			return Nginx{}, false
		}
		children, err := readChildren(filepath.Join(s.ProcRoot, pid, "task", pid, "children"))
		if err != nil {
			return Nginx{}, false
		}
		for _, child := range strings.Fields(string(children)) {
			if _, err := strconv.Atoi(child); err == nil {
				nginxProcess(s.ProcRoot, child, ours, lookup, &n)
			}
		}
	}
	return n, true
}

// maxChildrenBytes bounds the list of a master's children read from
// /proc: some 8,000 PIDs, far more workers than an nginx runs.
const maxChildrenBytes = 64 << 10

// readChildren reads a children file of /proc, at most maxChildrenBytes;
// a longer list is an error (the full read is the answer then).
func readChildren(path string) ([]byte, error) {
	b, _, err := regular.Read(path, true, maxChildrenBytes)
	if errors.Is(err, regular.ErrTooLarge) {
		err = fmt.Errorf("%s: more than %d bytes", path, maxChildrenBytes)
	}
	return b, err
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
	// Plain system calls: an os.File would try to register each of
	// thousands of /proc files with the runtime's poller.
	fd, err := syscall.Open(path, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return nil
	}
	defer syscall.Close(fd)
	b := make([]byte, max)
	k, err := syscall.Read(fd, b)
	if err != nil || k < 0 {
		return nil
	}
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
