package supervisor

import (
	"context"
	"fmt"
)

// A process's output as supervisord logs it: drover logs reads it through
// supervisord's tail calls, never the files, whose names supervisord picks.

// Stream is one of a process's two logs.
type Stream string

const (
	Stdout Stream = "stdout"
	Stderr Stream = "stderr"
)

// MaxTail bounds the bytes one LogTail returns.
const MaxTail = 1 << 20

// Tail is a piece of a process's log: Data is the tenant's bytes, Offset
// where the next read starts (the log's size), Overflow true when more
// was written since the offset asked from than the bytes asked for (the
// rest is lost to the reader).
type Tail struct {
	Data     string
	Offset   int
	Overflow bool
}

// LogTail reads what a process's ("group:name") stream holds after from,
// at most length bytes (at most MaxTail), the newest; from < 0 reads the
// last length bytes. It is supervisord's tailProcessStdoutLog or
// tailProcessStderrLog, which answer the last length bytes and the log's
// size: the bytes before from are cut off here. A log that rotated (its
// size fell below from) is read from its start.
func (c *Client) LogTail(ctx context.Context, name string, s Stream, from, length int) (Tail, error) {
	method := "supervisor.tailProcessStdoutLog"
	if s == Stderr {
		method = "supervisor.tailProcessStderrLog"
	}
	length = min(max(length, 0), MaxTail)
	v, err := c.call(ctx, method, name, max(from, 0), length)
	if err != nil {
		return Tail{}, err
	}
	// [bytes, offset, overflow]
	if list, ok := v.([]any); ok && len(list) == 3 {
		data, ok1 := list[0].(string)
		size, ok2 := list[1].(int)
		if ok1 && ok2 {
			return since(data, size, from, length), nil
		}
	}
	return Tail{}, c.wrap(method, fmt.Errorf("result is %v, not [string, int, bool]", v))
}

// since is the part of data, the last bytes of a log of size bytes, that
// was written after from, at most length bytes.
func since(data string, size, from, length int) Tail {
	if len(data) > length {
		data = data[len(data)-length:]
	}
	n := size // written since from: all of a log that is new or rotated
	if from >= 0 && from <= size {
		n = size - from
	}
	t := Tail{Data: data, Offset: size, Overflow: n > len(data)}
	if n < len(data) {
		t.Data = data[len(data)-n:]
	}
	return t
}

// tailFile is supervisord's answer to a tail call on a log: the last
// length bytes (from offset on, when fewer were written since) and the
// log's size.
func tailFile(log string, offset, length int) (string, int) {
	sz := len(log)
	if sz > offset+length {
		offset = sz - 1
	}
	if offset+length > sz {
		if offset > sz-1 {
			length = 0
		}
		offset = sz - length
	}
	offset, length = max(offset, 0), max(length, 0)
	return log[offset:min(offset+length, sz)], sz
}

// LogTail reads a process's log as the Client does (see Output).
func (f *Fake) LogTail(ctx context.Context, name string, s Stream, from, length int) (Tail, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	p := f.proc(name)
	if p == nil {
		return Tail{}, badName(name)
	}
	log := p.stdout
	if s == Stderr {
		log = p.stderr
	}
	length = min(max(length, 0), MaxTail)
	data, size := tailFile(log, max(from, 0), length)
	return since(data, size, from, length), nil
}

// Output appends to a process's ("group:name") logs, as if it wrote them.
func (f *Fake) Output(name, stdout, stderr string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	p := f.proc(name)
	if p == nil {
		panic("supervisor.Fake.Output: no process " + name)
	}
	p.stdout += stdout
	p.stderr += stderr
}
