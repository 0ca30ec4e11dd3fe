package secret

import (
	"encoding/base64"
	"strings"
	"testing"

	"filippo.io/age"
)

// Test keys, made for these tests only.
const (
	key1 = "AGE-SECRET-KEY-1VXLWKRXZDEHM4DY69Z4GX6VCZWWUCU832P8PUA76ELAR0CZD52PQZEK6ND"
	rcp1 = "age17h2lhkz35zjuay24yhne7a0eggsr4v6evdnncf0zkfjur2c5hu5qfcdfcp"
	key2 = "AGE-SECRET-KEY-1GUMWAMTN03DKDKHD4CYS54Y0TL7F0KFDJ6JFR96Q244VW7DQJ50S5WLEJ7"
	rcp2 = "age1qpj5avg8xv4jqx2w5lsuut00f7hffdqjf6ljnsluzdur42msra6shkzfnp"
	key3 = "AGE-SECRET-KEY-18DVYSTYX67QZR2ZVLV0Y6F59LJGHGP3XDDS6LPK7VAY3YMKSHRFQNWVPSQ"
)

func ids(t *testing.T, keys ...string) []age.Identity {
	t.Helper()
	out, err := ParseIdentities([]byte("# a comment\n\n" + strings.Join(keys, "\n") + "\n"))
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func seal(t *testing.T, plain, tenant, shard string, recipients ...string) string {
	t.Helper()
	s, err := Seal([]byte(plain), tenant, shard, recipients)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestRoundTrip: every node of the shard opens the value, for its tenant.
func TestRoundTrip(t *testing.T) {
	s := seal(t, "s3cret: p@ss\nword", "acme", "web-1", rcp2, rcp1)
	if !IsSealed(s) || !strings.HasPrefix(s, "drover:age:v1:acme:web-1:"+Digest([]string{rcp1, rcp2})+":") {
		t.Fatalf("sealed value %q", s)
	}
	if strings.Contains(s, "s3cret") {
		t.Fatal("the sealed value holds the plaintext")
	}
	for _, k := range []string{key1, key2} {
		got, err := Open(s, "acme", ids(t, k))
		if err != nil || string(got) != "s3cret: p@ss\nword" {
			t.Errorf("open with %s…: %q, %v", k[:20], got, err)
		}
	}
	v, err := Parse(s)
	if err != nil || v.Stanzas != 2 || v.Tenant != "acme" || v.Shard != "web-1" {
		t.Errorf("parse: %+v, %v", v, err)
	}
}

// TestOpenRefuses: a key the value was not made for, another tenant, a
// changed clear field and a changed payload are refused, and no error
// holds the plaintext.
func TestOpenRefuses(t *testing.T) {
	const plain = "hunter2-plaintext"
	s := seal(t, plain, "acme", "web-1", rcp1, rcp2)
	f := strings.Split(s, ":")
	payload, _ := base64.StdEncoding.DecodeString(f[len(f)-1])
	flipped := append([]byte(nil), payload...)
	flipped[len(flipped)-5] ^= 1
	tampered := strings.Join(f[:len(f)-1], ":") + ":" + base64.StdEncoding.EncodeToString(flipped)
	for _, c := range []struct {
		name, value, tenant string
		keys                []string
		want                string
	}{
		{"other shard's key", s, "acme", []string{key3}, "not encrypted for this node's key (shard web-1"},
		{"no key", s, "acme", nil, "this node has no age key"},
		{"used by another tenant", s, "beta", []string{key1}, `encrypted for tenant "acme", not "beta"`},
		{"clear tenant changed", strings.Replace(s, ":acme:", ":beta:", 1), "beta", []string{key1}, `encrypted for another tenant than "beta"`},
		{"payload changed", tampered, "acme", []string{key1}, "decrypt:"},
		{"not sealed", "plain", "acme", []string{key1}, "does not start with"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var keys []age.Identity
			if c.keys != nil {
				keys = ids(t, c.keys...)
			}
			got, err := Open(c.value, c.tenant, keys)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Open = %q, %v; want an error containing %q", got, err, c.want)
			}
			if strings.Contains(err.Error(), plain) {
				t.Errorf("the error holds the plaintext: %v", err)
			}
		})
	}
}

// TestParseRefuses: each malformed value, with what is wrong.
func TestParseRefuses(t *testing.T) {
	good := seal(t, "x", "acme", "web-1", rcp1)
	f := strings.Split(good, ":")
	b64 := f[len(f)-1]
	scrypt := base64.StdEncoding.EncodeToString([]byte("age-encryption.org/v1\n-> scrypt c2FsdA 18\nYm9keQ\n--- bWFj\n"))
	for _, c := range []struct{ value, want string }{
		{"drover:age:v2:acme:web-1:0011223344556677:" + b64, `version "v2"`},
		{"drover:age:v1:acme:web-1:" + b64, "has 4 fields"},
		{"drover:age:v1::web-1:0011223344556677:" + b64, "names no tenant"},
		{"drover:age:v1:acme:web-1:00112233:" + b64, "want 16 hex digits"},
		{"drover:age:v1:acme:web-1:0011223344556677:not base64!", "not standard base64"},
		{"drover:age:v1:acme:web-1:0011223344556677:" + base64.StdEncoding.EncodeToString([]byte("hello\n")), "does not start with \"age-encryption.org/v1\""},
		{"drover:age:v1:acme:web-1:0011223344556677:" + scrypt, "only X25519 recipients"},
		{"drover:age:v1:acme:web-1:0011223344556677:" + base64.StdEncoding.EncodeToString([]byte("age-encryption.org/v1\n--- bWFj\n")), "names no recipient"},
	} {
		if _, err := Parse(c.value); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Parse(%.60q…) = %v, want %q", c.value, err, c.want)
		}
	}
}

// TestDigestIgnoresOrder: the order of node blocks, and a key listed
// twice, do not change the digest; another key does.
func TestDigestIgnoresOrder(t *testing.T) {
	if Digest([]string{rcp1, rcp2}) != Digest([]string{rcp2, rcp1, rcp2}) {
		t.Error("order changes the digest")
	}
	if Digest([]string{rcp1, rcp2}) == Digest([]string{rcp1}) {
		t.Error("a removed node does not change the digest")
	}
}

// TestSealBounds: values over MaxPlaintext and bad recipients are refused.
func TestSealBounds(t *testing.T) {
	if _, err := Seal(make([]byte, MaxPlaintext+1), "acme", "web-1", []string{rcp1}); err == nil {
		t.Error("a value over MaxPlaintext was sealed")
	}
	if _, err := Seal([]byte("x"), "acme", "web-1", []string{"age1nope"}); err == nil {
		t.Error("a bad recipient was accepted")
	}
	if _, err := Seal([]byte("x"), "acme", "web-1", nil); err == nil {
		t.Error("a value was sealed for nobody")
	}
	if _, err := ParseIdentities([]byte("AGE-SECRET-KEY-1NOPE\n")); err == nil || strings.Contains(err.Error(), "NOPE") {
		t.Errorf("a bad key file: %v", err)
	}
}
