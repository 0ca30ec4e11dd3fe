package trust

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	pgperrors "github.com/ProtonMail/go-crypto/openpgp/errors"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/hiddeco/sshsig"
	"golang.org/x/crypto/ssh"
)

// gitNamespace is the sshsig namespace git signs commits in.
const gitNamespace = "git"

// Signer is who signed a commit, as far as the policy knows them.
type Signer struct {
	// Name is the signer as reasons show it: the principals of the SSH
	// key's allowed_signers line, or the OpenPGP key's primary identity;
	// "unsigned" or "an unknown key …" when Groups is empty.
	Name string
	// Groups are the signers blocks the key is in; empty when the commit is
	// unsigned, its key unknown or its signature bad.
	Groups []string
}

func (s Signer) String() string {
	if len(s.Groups) == 0 {
		return s.Name
	}
	return fmt.Sprintf("%s (%s)", s.Name, strings.Join(s.Groups, ", "))
}

// Known reports whether the signature is good and by a key of the policy.
func (s Signer) Known() bool { return len(s.Groups) > 0 }

// signer verifies the signature of c: git's "gpgsig" header, an OpenPGP or
// an SSH signature (namespace "git") over the commit without that header.
// A commit whose content was changed after signing has a payload the
// signature does not match.
func (p *Policy) signer(c *object.Commit) Signer {
	sig := strings.TrimSpace(c.PGPSignature)
	if sig == "" {
		return Signer{Name: "unsigned"}
	}
	var payload plumbing.MemoryObject
	if err := c.EncodeWithoutSignature(&payload); err != nil {
		return Signer{Name: fmt.Sprintf("unreadable (%v)", err)}
	}
	r, err := payload.Reader()
	if err != nil {
		return Signer{Name: fmt.Sprintf("unreadable (%v)", err)}
	}
	signed, err := io.ReadAll(r) // in memory, at most the commit's size (maxCommitBytes)
	if err != nil {
		return Signer{Name: fmt.Sprintf("unreadable (%v)", err)}
	}
	switch {
	case strings.HasPrefix(sig, "-----BEGIN SSH SIGNATURE-----"):
		return p.sshSigner(signed, []byte(sig), c.Committer.When)
	case strings.HasPrefix(sig, "-----BEGIN PGP SIGNATURE-----"):
		return p.pgpSigner(signed, sig)
	}
	return Signer{Name: "an unsupported signature (only OpenPGP and SSH signatures are verified)"}
}

// sshSigner checks an sshsig signature against the SSH keys of the policy
// whose allowed_signers line admits namespace "git" at the commit's
// committer time.
func (p *Policy) sshSigner(signed, armored []byte, at time.Time) Signer {
	sig, err := sshsig.Unarmor(armored)
	if err != nil {
		return Signer{Name: fmt.Sprintf("an unreadable SSH signature (%v)", err)}
	}
	fp := ssh.FingerprintSHA256(sig.PublicKey)
	if sig.Namespace != gitNamespace {
		return Signer{Name: fmt.Sprintf("an SSH signature for namespace %q, not %q, by key %s", sig.Namespace, gitNamespace, fp)}
	}
	want := sig.PublicKey.Marshal()
	var s Signer
	verified := false
	for _, e := range p.ssh {
		if !bytes.Equal(e.key.Marshal(), want) {
			continue
		}
		if !verified {
			if err := sshsig.Verify(bytes.NewReader(signed), sig, e.key, sig.HashAlgorithm, gitNamespace); err != nil {
				return Signer{Name: fmt.Sprintf("a bad SSH signature by key %s (%v)", fp, err)}
			}
			verified = true
		}
		if !e.accepts(gitNamespace, at) {
			continue
		}
		if s.Name == "" {
			s.Name = e.principals
		}
		if !slices.Contains(s.Groups, e.group) {
			s.Groups = append(s.Groups, e.group)
		}
	}
	if !s.Known() {
		if verified {
			return Signer{Name: fmt.Sprintf("SSH key %s, whose allowed_signers lines do not admit namespace %q at the commit's time", fp, gitNamespace)}
		}
		return Signer{Name: "an unknown SSH key " + fp}
	}
	return s
}

// pgpSigner checks a detached OpenPGP signature against the policy's
// keys.
func (p *Policy) pgpSigner(signed []byte, armored string) Signer {
	if len(p.pgp) == 0 {
		return Signer{Name: "an unknown OpenPGP key (the policy lists none)"}
	}
	e, err := openpgp.CheckArmoredDetachedSignature(p.pgp, bytes.NewReader(signed), strings.NewReader(armored), &packet.Config{})
	if err != nil {
		if errors.Is(err, pgperrors.ErrUnknownIssuer) {
			return Signer{Name: "an unknown OpenPGP key " + issuer(armored)}
		}
		return Signer{Name: fmt.Sprintf("a bad OpenPGP signature (%v)", err)}
	}
	fp := fingerprint(e)
	name := fp
	if pi := e.PrimaryIdentity(); pi != nil {
		name = pi.Name
	}
	return Signer{Name: name, Groups: slices.Clone(p.pgpOf[fp])}
}

// issuer is the key an OpenPGP signature names: its fingerprint when the
// signature carries it, else its key ID; "" when unreadable.
func issuer(armored string) string {
	blk, err := armor.Decode(strings.NewReader(armored))
	if err != nil {
		return ""
	}
	pk, err := packet.Read(blk.Body)
	if err != nil {
		return ""
	}
	s, ok := pk.(*packet.Signature)
	switch {
	case !ok:
		return ""
	case len(s.IssuerFingerprint) > 0:
		return fmt.Sprintf("%X", s.IssuerFingerprint)
	case s.IssuerKeyId != nil:
		return fmt.Sprintf("%016X", *s.IssuerKeyId)
	}
	return ""
}
