package spec_test

import (
	"github.com/drover-sh/drover/secret"
)

// Test keys' recipients (the private halves are in secret/value_test.go).
const (
	rcp1 = "age17h2lhkz35zjuay24yhne7a0eggsr4v6evdnncf0zkfjur2c5hu5qfcdfcp"
	rcp2 = "age1qpj5avg8xv4jqx2w5lsuut00f7hffdqjf6ljnsluzdur42msra6shkzfnp"
	rcp3 = "age16jx07ruees7vng7eul9ddns0yx44htr6sp0v2vkhk6fljuaw9qhqxvnx7d"
)

// keyedShard is shards/web-1.hcl with both nodes keyed.
var keyedShard = shard(`node "web-1a" {`, `  index = 1`, `  age_recipient = "`+rcp1+`"`, `}`,
	`node "web-1b" {`, `  index = 2`, `  age_recipient = "`+rcp2+`"`, `}`)

// sealedFor is a value sealed for tenant and shard, to recipients.
func sealedFor(tenant, shard string, recipients ...string) string {
	s, err := secret.Seal([]byte("p@ssw0rd"), tenant, shard, recipients)
	if err != nil {
		panic(err)
	}
	return s
}

// sealedEnv is a daemon whose environment (line 7) holds value as DB_PASSWORD.
func sealedEnv(value string) string {
	return daemon(`environment = { DB_PASSWORD = "` + value + `" }`)
}

// The rules of sealed values, node keys and env_file, in TestValidate.
func init() {
	validateCases = append(validateCases,
		validateCase{
			name:  "sealed value for the shard's nodes",
			files: map[string]string{shardFile: keyedShard, tenantFile: sealedEnv(sealedFor("acme", "web-1", rcp2, rcp1))},
		},
		validateCase{
			name:  "invalid age recipient",
			files: map[string]string{shardFile: shard(`node "web-1a" {`, `  index = 1`, `  age_recipient = "age1nope"`, `}`, `node "web-1b" { index = 2 }`)},
			want:  []wantDiag{errAt(shardFile, 4, "Invalid age recipient", `The age_recipient of node "web-1a" is not an age X25519 recipient`)},
		},
		validateCase{
			name:  "malformed sealed value",
			files: map[string]string{shardFile: keyedShard, tenantFile: sealedEnv("drover:age:v1:acme:web-1:0011:xx")},
			want:  []wantDiag{errAt(tenantFile, 7, "Invalid encrypted value", "want 16 hex digits")},
		},
		validateCase{
			name:  "sealed value of another tenant",
			files: map[string]string{shardFile: keyedShard, tenantFile: sealedEnv(sealedFor("beta", "web-1", rcp1, rcp2))},
			want: []wantDiag{errAt(tenantFile, 7, "Encrypted for another tenant",
				`was encrypted for tenant "beta"; the node would refuse it for tenant "acme". Encrypt the value again: drover secret encrypt --shard web-1 --tenant acme`)},
		},
		validateCase{
			name:  "sealed value of another shard",
			files: map[string]string{shardFile: keyedShard, tenantFile: sealedEnv(sealedFor("acme", "web-2", rcp3))},
			want: []wantDiag{errAt(tenantFile, 7, "Encrypted for another shard",
				`was encrypted for shard "web-2", but tenant "acme" runs on shard "web-1", whose nodes cannot decrypt it. Encrypt the value again: drover secret encrypt --shard web-1 --tenant acme`)},
		},
		validateCase{
			name:  "sealed value for an outdated node list",
			files: map[string]string{shardFile: keyedShard, tenantFile: sealedEnv(sealedFor("acme", "web-1", rcp1))},
			want: []wantDiag{errAt(tenantFile, 7, "Encrypted for other node keys",
				`was encrypted for 1 recipients with digest `+secret.Digest([]string{rcp1})+`, but the nodes of shard "web-1" (web-1a, web-1b) now have 2`)},
		},
		validateCase{
			name: "sealed value and a node without a key",
			files: map[string]string{shardFile: shard(`node "web-1a" {`, `  index = 1`, `  age_recipient = "`+rcp1+`"`, `}`, `node "web-1b" { index = 2 }`),
				tenantFile: sealedEnv(sealedFor("acme", "web-1", rcp1))},
			want: []wantDiag{errAt(tenantFile, 7, "Node without an age recipient", `node web-1b of shard "web-1" has no age_recipient`)},
		},
		validateCase{
			name:  "env_file in the webroot",
			files: map[string]string{tenantFile: daemon(`env_file = ".env.hosting"`)},
		},
		envFileCase("../acme/.env"),
		envFileCase("/etc/shadow"),
		envFileCase("config/./app.env"),
		envFileCase("config/"),
		envFileCase("a b"),
		validateCase{
			name:  "restart_on_change in the webroot",
			files: map[string]string{tenantFile: daemon(`restart_on_change = "REVISION"`)},
		},
		validateCase{
			name:  "restart_on_change outside the webroot",
			files: map[string]string{tenantFile: daemon(`restart_on_change = "../other/REVISION"`)},
			want:  []wantDiag{errAt(tenantFile, 7, "Invalid restart_on_change", "is not a file inside the webroot")},
		},
	)
}

// envFileCase is the case of one invalid env_file.
func envFileCase(path string) validateCase {
	return validateCase{
		name:  "env_file " + path,
		files: map[string]string{tenantFile: daemon(`env_file = "` + path + `"`)},
		want:  []wantDiag{errAt(tenantFile, 7, "Invalid env_file", "is not a file inside the webroot")},
	}
}
