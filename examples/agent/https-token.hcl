# A node that pulls over HTTPS with a token and manages no network (the
# platform assigns tenant addresses itself).
node = "web-1b"

source {
  url        = "https://git.example.com/ops/hosting-config.git"
  token_file = "/etc/drover/git.token"
}
