package localapi

import (
	"crypto/sha1"
	"fmt"
)

// The ids of GET /v1/daemons are name-based: the same key gives the same
// id on every node and in every run, so a client can follow a daemon that
// moves between nodes.

// DaemonID is the id of the daemon TENANT/WEBROOT/DAEMON.
func DaemonID(key string) string { return uuid5("daemon/" + key) }

// TenantID is the id of a tenant.
func TenantID(tenant string) string { return uuid5("tenant/" + tenant) }

// WebrootID is the id of a tenant's webroot.
func WebrootID(tenant, webroot string) string { return uuid5("webroot/" + tenant + "/" + webroot) }

// uuidNamespace is drover's UUIDv5 namespace for deterministic ids.
var uuidNamespace = [16]byte{0x6b, 0x3c, 0x1f, 0x0e, 0x9a, 0x52, 0x4d, 0x6e, 0x8f, 0x11, 0x2d, 0x7a, 0x40, 0x93, 0xc5, 0x18}

// uuid5 is the RFC 9562 name-based (SHA-1) UUID of name in drover's
// namespace.
func uuid5(name string) string {
	h := sha1.New()
	h.Write(uuidNamespace[:])
	h.Write([]byte(name))
	var u [16]byte
	copy(u[:], h.Sum(nil))
	u[6] = u[6]&0x0f | 0x50
	u[8] = u[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16])
}
