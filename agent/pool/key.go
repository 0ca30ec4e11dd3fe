package pool

import (
	"bytes"
	"encoding/base64"
	"fmt"

	"github.com/drover-sh/drover/internal/regular"
)

// keyHowTo says how to make a key file; every key error ends with it.
const keyHowTo = "create one with `head -c 32 /dev/urandom > %[1]s && chmod 600 %[1]s` (root-owned) and copy the same file to every node of the shard"

// ReadKey reads the pool's encryption key from path: a regular file owned
// by root, readable and writable by root only (mode 0600 or stricter),
// holding 16, 24 or 32 raw bytes, or their standard base64 encoding (one
// trailing newline allowed). Text that decodes as base64 to one of those
// lengths is taken as base64; anything else must be the raw key.
func ReadKey(path string) ([]byte, error) {
	fail := func(format string, args ...any) ([]byte, error) {
		return nil, fmt.Errorf("pool key file %s: %s; "+keyHowTo, append([]any{path, fmt.Sprintf(format, args...)}, path)...)
	}
	data, err := regular.ReadRootOnly(path, 128)
	if err != nil {
		return fail("%v", err)
	}
	text := bytes.TrimSuffix(data, []byte("\n"))
	if key, err := base64.StdEncoding.DecodeString(string(text)); err == nil && validKeyLen(len(key)) {
		return key, nil
	}
	if validKeyLen(len(data)) {
		return data, nil
	}
	return fail("holds %d bytes, neither a key of 16, 24 or 32 bytes nor the base64 of one", len(data))
}

func validKeyLen(n int) bool { return n == 16 || n == 24 || n == 32 }
