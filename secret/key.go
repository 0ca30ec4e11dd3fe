package secret

import (
	"bytes"
	"errors"
	"fmt"

	"filippo.io/age"
)

// A node key is an age X25519 identity in the format age-keygen writes:
// "AGE-SECRET-KEY-1…" lines, "#" comments and blank lines. Its recipient
// ("age1…") is the node's age_recipient in the config repository.

// ParseIdentities reads a node key file's content: at least one X25519
// identity, nothing else. Errors do not quote the content.
func ParseIdentities(data []byte) ([]age.Identity, error) {
	ids, err := age.ParseIdentities(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("parse age identities: %w", err)
	}
	for _, id := range ids {
		if _, ok := id.(*age.X25519Identity); !ok {
			return nil, errors.New("holds an identity that is not X25519 (AGE-SECRET-KEY-1…)")
		}
	}
	return ids, nil
}

// Recipients are the recipients of X25519 identities, for the operator to
// put in the config repository.
func Recipients(ids []age.Identity) []string {
	var out []string
	for _, id := range ids {
		if x, ok := id.(*age.X25519Identity); ok {
			out = append(out, x.Recipient().String())
		}
	}
	return out
}

// NewKey makes a node key: the key file's content (private) and its
// recipient (public).
func NewKey() (file []byte, recipient string, err error) {
	id, err := age.GenerateX25519Identity()
	if err != nil {
		return nil, "", fmt.Errorf("generate age identity: %w", err)
	}
	r := id.Recipient().String()
	return []byte("# drover node key; its recipient (age_recipient): " + r + "\n" + id.String() + "\n"), r, nil
}

// CheckRecipient checks an age_recipient: an X25519 recipient, "age1…".
func CheckRecipient(s string) error {
	if _, err := age.ParseX25519Recipient(s); err != nil {
		return fmt.Errorf("not an age X25519 recipient: %w", err)
	}
	return nil
}
