# The cluster: one per config repository. ula_prefix is optional; without it
# drover derives fd00:{fnv32a("osl-1") % 0xffff}::/32 = fd00:5ccd::/32.
cluster "osl-1" {
  ula_prefix              = "fd00:5ccd::/32"
  max_daemons_per_webroot = 10
}
