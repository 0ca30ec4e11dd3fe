package netstate

import (
	"fmt"
	"net/netip"
	"testing"
)

// BenchmarkDecode6000 reads back the stored state of a node with 6,000
// tenants, as every pass that applies the network does to compare it with
// the desired one.
func BenchmarkDecode6000(b *testing.B) {
	var tenants []Tenant
	for i := range 6000 {
		uid := uint32(10000 + i)
		tenants = append(tenants, Tenant{Name: fmt.Sprintf("t%05d", i), UID: uid,
			Addr: netip.AddrFrom16([16]byte{0xfd, 0, 0x5c, 0xcd, 0, 1, 12: byte(uid >> 24), byte(uid >> 16), byte(uid >> 8), byte(uid)})})
	}
	enc := state(tenants, route2, route3).Encode()
	b.SetBytes(int64(len(enc)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decode(enc); err != nil {
			b.Fatal(err)
		}
	}
}
