// Package secret is the format of an encrypted environment value: a value
// of the config repository that only the nodes of one shard can read, for
// one tenant. It is pure (bytes in, bytes out; the randomness of age's
// encryption aside), so validate and plan check a value without any key,
// and the agent opens it with its node key (design.md §2.14).
//
// A sealed value is one line of text:
//
//	drover:age:v1:TENANT:SHARD:RECIPIENTS:PAYLOAD
//
// PAYLOAD is an age file (filippo.io/age, X25519 recipients: the format
// sops uses) in standard base64, encrypted to the age_recipient of every
// node of SHARD. RECIPIENTS is the first 8 bytes, in hex, of the SHA-256 of
// those recipients, sorted and joined by newlines (Digest): age's X25519
// stanzas do not name their recipients, so this is how validate learns,
// without a private key, whether a value was made for the shard's current
// nodes. TENANT and SHARD are in clear for the same reason. None of the
// clear fields is trusted on the node: the encrypted text starts with the
// tenant's name (Open checks it), so a value copied into another tenant's
// daemon does not open there, and the clear fields cannot be changed
// without the node key noticing.
package secret

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"filippo.io/age"

	"github.com/drover-sh/drover/execspec"
)

// Prefix marks a sealed value. Every environment value that starts with
// it must be a valid sealed value: there is no way to write a plain value
// starting with it.
const Prefix = execspec.SealedPrefix

// version is the only format there is.
const version = "v1"

// MaxPlaintext bounds a value to seal: a sealed value must fit the 64 KiB
// of an environment value with room for the header of a large shard.
const MaxPlaintext = 32 << 10

// Value is a sealed value taken apart. Its fields say whom it was made
// for; only the node key can tell whether that is true.
type Value struct {
	Tenant, Shard string
	// Recipients is the digest of the recipients (Digest).
	Recipients string
	// Payload is the age file.
	Payload []byte
	// Stanzas counts the X25519 recipients the age header names.
	Stanzas int
}

// IsSealed reports whether an environment value is meant as a sealed
// value (valid or not).
func IsSealed(s string) bool { return strings.HasPrefix(s, Prefix) }

// Parse takes a sealed value apart and checks its form: the fields, the
// base64 and the age header (only X25519 recipients). It needs no key.
func Parse(s string) (Value, error) {
	rest, ok := strings.CutPrefix(s, Prefix)
	if !ok {
		return Value{}, fmt.Errorf("does not start with %q", Prefix)
	}
	f := strings.Split(rest, ":")
	if len(f) != 5 {
		return Value{}, fmt.Errorf("has %d fields after %q; want 5 (%sTENANT:SHARD:RECIPIENTS:PAYLOAD)", len(f), Prefix, Prefix+version+":")
	}
	if f[0] != version {
		return Value{}, fmt.Errorf("has version %q; this drover reads %q", f[0], version)
	}
	v := Value{Tenant: f[1], Shard: f[2], Recipients: f[3]}
	if v.Tenant == "" || v.Shard == "" {
		return Value{}, errors.New("names no tenant or no shard")
	}
	if len(v.Recipients) != 16 || !isHex(v.Recipients) {
		return Value{}, fmt.Errorf("has the recipients digest %q; want 16 hex digits", v.Recipients)
	}
	p, err := base64.StdEncoding.Strict().DecodeString(f[4])
	if err != nil {
		return Value{}, fmt.Errorf("payload is not standard base64: %w", err)
	}
	v.Payload = p
	if v.Stanzas, err = x25519Stanzas(p); err != nil {
		return Value{}, fmt.Errorf("payload is not an age file for X25519 recipients: %w", err)
	}
	return v, nil
}

// Digest is the recipients digest of a set of age recipients: the order
// of the node blocks does not matter.
func Digest(recipients []string) string {
	r := slices.Clone(recipients)
	slices.Sort(r)
	r = slices.Compact(r)
	h := sha256.Sum256([]byte(strings.Join(r, "\n")))
	return hex.EncodeToString(h[:8])
}

// Seal encrypts plaintext for tenant, to the recipients of shard's nodes.
func Seal(plaintext []byte, tenant, shard string, recipients []string) (string, error) {
	if len(plaintext) > MaxPlaintext {
		return "", fmt.Errorf("value of %d bytes is larger than %d", len(plaintext), MaxPlaintext)
	}
	if len(recipients) == 0 {
		return "", errors.New("no recipients")
	}
	var rs []age.Recipient
	for _, s := range slices.Compact(slices.Sorted(slices.Values(recipients))) {
		r, err := age.ParseX25519Recipient(s)
		if err != nil {
			return "", fmt.Errorf("parse recipient %q: %w", s, err)
		}
		rs = append(rs, r)
	}
	var out bytes.Buffer
	w, err := age.Encrypt(&out, rs...)
	if err != nil {
		return "", fmt.Errorf("encrypt: %w", err)
	}
	if _, err := io.WriteString(w, bound(tenant)); err != nil {
		return "", fmt.Errorf("encrypt: %w", err)
	}
	if _, err := w.Write(plaintext); err != nil {
		return "", fmt.Errorf("encrypt: %w", err)
	}
	if err := w.Close(); err != nil {
		return "", fmt.Errorf("encrypt: %w", err)
	}
	return Prefix + version + ":" + tenant + ":" + shard + ":" + Digest(recipients) + ":" +
		base64.StdEncoding.EncodeToString(out.Bytes()), nil
}

// bound is what the encrypted text starts with: the tenant it is for.
func bound(tenant string) string { return "drover-secret-v1 tenant=" + tenant + "\n" }

// Open decrypts a sealed value for tenant's daemon with the node's
// identities. Errors never hold the plaintext: they say whom the value is
// for and why it does not open.
func Open(s, tenant string, ids []age.Identity) ([]byte, error) {
	v, err := Parse(s)
	if err != nil {
		return nil, err
	}
	if v.Tenant != tenant {
		return nil, fmt.Errorf("encrypted for tenant %q, not %q", v.Tenant, tenant)
	}
	if len(ids) == 0 {
		return nil, errors.New("this node has no age key (secrets.key_file in the agent configuration)")
	}
	r, err := age.Decrypt(bytes.NewReader(v.Payload), ids...)
	if err != nil {
		var none *age.NoIdentityMatchError
		if errors.As(err, &none) {
			return nil, fmt.Errorf("not encrypted for this node's key (shard %s, recipients %s): re-encrypt it with drover secret encrypt --shard %s --tenant %s", v.Shard, v.Recipients, v.Shard, tenant)
		}
		return nil, fmt.Errorf("decrypt: %w", err)
	}
	limit := int64(MaxPlaintext + len(bound(tenant)))
	plain, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		clear(plain)
		return nil, fmt.Errorf("decrypt: %w", err)
	}
	if int64(len(plain)) > limit {
		clear(plain)
		return nil, fmt.Errorf("decrypted value is larger than %d bytes", MaxPlaintext)
	}
	rest, ok := bytes.CutPrefix(plain, []byte(bound(tenant)))
	if !ok {
		clear(plain)
		return nil, fmt.Errorf("encrypted for another tenant than %q (the clear tenant field was changed)", tenant)
	}
	return rest, nil
}

func isHex(s string) bool {
	_, err := hex.DecodeString(s)
	return err == nil
}
