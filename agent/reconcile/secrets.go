package reconcile

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"sync"

	"filippo.io/age"

	"github.com/drover-sh/drover/netplan"
	"github.com/drover-sh/drover/render"
	"github.com/drover-sh/drover/secret"
	"github.com/drover-sh/drover/spec"
)

// Encrypted environment values (design.md §2.14) stay encrypted in
// everything the agent keeps: the plan, the render memo, the desired
// files, the store and its history hold the exec spec as rendered, with
// the sealed values. Only the bytes written to (or compared with) the
// exec spec on disk, mode 0600 in the root-only state_dir, are opened
// with the node key (reveal), and dropped once written or compared.
//
// A daemon whose sealed value does not open here gets nothing installed
// (no exec spec, no program) and is failed with the reason, which names
// the variable, never the value.

// secretRefused prefixes the reason of a daemon whose value does not open.
const secretRefused = "encrypted environment value refused: "

// unsealer opens sealed values with the node's key.
type unsealer struct {
	ids []age.Identity // nil: the node has no key
	// mu guards checked: by SHA-256 of tenant and sealed value, why the
	// value does not open ("" when it does). It holds no plaintext, and
	// only the values of the last plan checked.
	mu      sync.Mutex
	checked map[[32]byte]string
}

// refusals returns why each program of plan whose sealed values do not
// all open is refused, by program.
func (u *unsealer) refusals(plan *netplan.NodePlan) map[string]string {
	if plan == nil {
		return nil
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	checked := map[[32]byte]string{}
	out := map[string]string{}
	// A key that is not the node's declared one explains every refusal.
	hint := ""
	if n := plan.Node; n != nil && n.AgeRecipient != "" && u.ids != nil && !holdsKeyOf(u.ids, n.AgeRecipient) {
		hint = "; this node's key (secrets.key_file) is not the key of its age_recipient in the repository: put the right key file on the node, or the recipient of its key in the node's block"
	}
	for _, d := range plan.Programs {
		if !anySealed(d.Environment) {
			continue // most programs: no sorting of their names for nothing
		}
		for _, kv := range d.Environment { // sorted by name
			k, v := kv.Name, kv.Value
			if !secret.IsSealed(v) {
				continue
			}
			id := sha256.Sum256([]byte(d.Tenant + "\x00" + v))
			why, ok := u.checked[id]
			if !ok {
				why = u.check(v, d.Tenant)
			}
			checked[id] = why
			if why != "" && out[d.Program] == "" {
				out[d.Program] = fmt.Sprintf("%s%s: %s%s", secretRefused, k, why, hint)
			}
		}
	}
	u.checked = checked
	return out
}

// anySealed reports whether an environment holds a sealed value.
func anySealed(env spec.Env) bool {
	for _, v := range env {
		if secret.IsSealed(v.Value) {
			return true
		}
	}
	return false
}

// holdsKeyOf reports whether ids hold the X25519 key of recipient.
func holdsKeyOf(ids []age.Identity, recipient string) bool {
	for _, id := range ids {
		if x, ok := id.(*age.X25519Identity); ok && x.Recipient().String() == recipient {
			return true
		}
	}
	return false
}

// check opens a value and forgets the plaintext: why it does not open,
// or "".
func (u *unsealer) check(v, tenant string) string {
	plain, err := secret.Open(v, tenant, u.ids)
	clear(plain)
	if err != nil {
		return err.Error()
	}
	return ""
}

// reveal is the content to install for f: f.Data, unless f is an exec
// spec holding sealed values, which are opened. The caller clears what
// it gets once written (forget).
func (u *unsealer) reveal(f render.File) ([]byte, error) {
	if f.Root != render.RootExec || !bytes.Contains(f.Data, []byte(secret.Prefix)) {
		return f.Data, nil
	}
	var s render.ExecSpec
	if err := json.Unmarshal(f.Data, &s); err != nil {
		return nil, fmt.Errorf("read exec spec %s: %w", f.Path, err)
	}
	for k, v := range s.Env {
		if !secret.IsSealed(v) {
			continue
		}
		plain, err := secret.Open(v, s.User, u.ids)
		if err != nil {
			return nil, fmt.Errorf("%s%s: %w", secretRefused, k, err)
		}
		s.Env[k] = string(plain)
		clear(plain)
	}
	return render.EncodeExecSpec(s), nil
}

// forget clears what reveal returned for f, if it is not f's own data.
func forget(f render.File, data []byte) {
	if len(data) > 0 && len(f.Data) > 0 && &data[0] != &f.Data[0] {
		clear(data)
	}
}
