package secret

import "testing"

// BenchmarkOpen is what the agent pays per encrypted value it opens (a
// spec written or compared), on a 3-node shard.
func BenchmarkOpen(b *testing.B) {
	s, err := Seal([]byte("a database password of some length"), "acme", "web-1", []string{rcp1, rcp2, "age16jx07ruees7vng7eul9ddns0yx44htr6sp0v2vkhk6fljuaw9qhqxvnx7d"})
	if err != nil {
		b.Fatal(err)
	}
	ids, err := ParseIdentities([]byte(key2 + "\n"))
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := Open(s, "acme", ids); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParse is what validate pays per encrypted value.
func BenchmarkParse(b *testing.B) {
	s, err := Seal([]byte("a database password of some length"), "acme", "web-1", []string{rcp1, rcp2})
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := Parse(s); err != nil {
			b.Fatal(err)
		}
	}
}
