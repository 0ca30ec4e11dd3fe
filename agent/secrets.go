package agent

import (
	"fmt"

	"filippo.io/age"

	"github.com/drover-sh/drover/agent/config"
	"github.com/drover-sh/drover/internal/regular"
	"github.com/drover-sh/drover/secret"
)

// maxKeyFile bounds the node's age key file (one identity is 74 bytes).
const maxKeyFile = 64 << 10

// readNodeKey reads the node's age key (secrets.key_file): a root-owned
// file of mode 0600 or stricter holding X25519 identities, as `drover
// secret keygen` writes it. Nil without a secrets block.
func readNodeKey(s *config.Secrets) ([]age.Identity, error) {
	if s == nil {
		return nil, nil
	}
	fail := func(err error) ([]age.Identity, error) {
		return nil, fmt.Errorf("secrets key file %s: %w; create one with `drover secret keygen %s` and put the recipient it prints in the node's block (age_recipient)", s.KeyFile, err, s.KeyFile)
	}
	data, err := regular.ReadRootOnly(s.KeyFile, maxKeyFile)
	if err != nil {
		return fail(err)
	}
	defer clear(data)
	ids, err := secret.ParseIdentities(data)
	if err != nil {
		return fail(err)
	}
	return ids, nil
}
