# A three-node web shard. Node indexes are unique in the cluster and never
# reused: they are part of every tenant address on the node.
shard "web-1" {
  node "web-1a" { index = 1 }
  node "web-1b" { index = 2 }
  node "web-1c" { index = 3 }
}
