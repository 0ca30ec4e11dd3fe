package store

// Every bucket and key the agent store uses, in one place (as etcd's
// server/storage/schema/bucket.go does). Open creates every bucket in
// allBuckets, so readers never find one missing.
//
// Encoding: small structured values are JSON — readable with `bbolt get`,
// tolerant of added fields, and fast enough (see BenchmarkRecord3000).
// Resource contents are the exception: they live raw in bucketResourceData,
// because JSON would base64 them (a third larger, and slower both ways).
//
// Changing the meaning or encoding of anything here means bumping
// SchemaVersion; an agent that finds another version rebuilds the store.

// SchemaVersion is the layout described in this file. It is stored under
// keySchemaVersion as a decimal string.
const SchemaVersion = 1

var (
	// bucketSchema holds keySchemaVersion and nothing else.
	bucketSchema = []byte("schema")
	// keySchemaVersion: SchemaVersion as a decimal string, e.g. "1".
	keySchemaVersion = []byte("version")

	// bucketApplied holds the revision the agent last applied completely.
	bucketApplied = []byte("applied")
	// keyAppliedRevision: the commit hash (or other revision string).
	keyAppliedRevision = []byte("revision")
	// keyAppliedAt: when it was applied, RFC 3339 with nanoseconds.
	keyAppliedAt = []byte("at")
	// keyAppliedNetwork: the network state last applied, as
	// netstate.State.Encode writes it (JSON); absent without a network
	// block.
	keyAppliedNetwork = []byte("network")

	// bucketResources: resource key ("{root}/{path}", e.g.
	// "nginx/locations/acme_main.conf") → JSON resourceMeta (mode, sha256,
	// size). Small, so listing what is installed never reads contents.
	bucketResources = []byte("resources")
	// bucketResourceData: resource key → the installed contents, raw bytes.
	// Written and deleted together with bucketResources, in one transaction.
	bucketResourceData = []byte("resource_data")

	// bucketDaemons: daemon key ("tenant/webroot/daemon") → JSON DaemonStatus.
	bucketDaemons = []byte("daemons")

	// bucketHistory: 8-byte big-endian sequence number (the bucket's
	// NextSequence, so keys sort oldest first) → JSON HistoryEntry. Trimmed
	// to historyLimit entries on every append.
	bucketHistory = []byte("history")

	// bucketRejections: revision → JSON rejectionRecord (the Rejection plus
	// a sequence number giving its age). Trimmed to rejectionLimit entries.
	bucketRejections = []byte("rejections")

	// bucketMeta: small free-form string values (Meta, SetMeta), e.g.
	// MetaSourceError.
	bucketMeta = []byte("meta")
)

// allBuckets is every bucket Open creates.
var allBuckets = [][]byte{
	bucketSchema,
	bucketApplied,
	bucketResources,
	bucketResourceData,
	bucketDaemons,
	bucketHistory,
	bucketRejections,
	bucketMeta,
}

// Well-known keys in bucketMeta.
const (
	// MetaSourceError is the last error fetching the source ("" when the
	// last fetch worked).
	MetaSourceError = "source_error"
	// MetaPendingRestarts lists, space-separated, the programs whose exec
	// spec changed and that have not been restarted since.
	MetaPendingRestarts = "pending_restarts"
	// MetaLoading is the revision being loaded (parsed, validated,
	// rendered) and how many times in a row its load began: "REV N". Set
	// before a load and cleared after it, so one left behind at start means
	// the agent died loading REV (agent/reconcile/poison.go).
	MetaLoading = "loading"
	// MetaSuspension is the node's suspension (drover suspend, drover
	// rollback) as JSON Suspension; absent when the node applies new
	// revisions (suspension.go). Unlike the rest of the store it cannot be
	// recovered from Git: a rebuilt store has lost it.
	MetaSuspension = "suspension"
	// MetaDeployHashes is, as a JSON object, the sha256 of the file each
	// daemon's restart_on_change names, as last seen ("PROGRAM FILE" →
	// hex digest; agent/reconcile/deploy.go): a deploy made while the
	// agent was down still restarts the daemon once.
	MetaDeployHashes = "deploy_hashes"
)
