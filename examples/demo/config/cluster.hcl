# The demo cluster: one shard with one node, on this machine.
cluster "demo" {
  ula_prefix = "fd00:de:0::/32"
}

shard "demo" {
  node "demo-1" { index = 1 }
}
