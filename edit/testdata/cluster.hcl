cluster "osl-1" {}

shard "web-1" {
  node "web-1a" { index = 1 }
  node "web-1b" { index = 2 }
}
