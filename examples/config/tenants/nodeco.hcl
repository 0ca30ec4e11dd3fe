# A Node.js WebSocket server proxied on /ws.
tenant "nodeco" {
  uid   = 10043
  shard = "web-1"

  webroot "site" {
    server_names = ["nodeco.example.com"]

    daemon "ws" {
      command    = "node ws-server.js --listen=[$HOST]:$PORT"
      proxy_path = "/ws"
      environment = {
        NODE_ENV = "production"
      }
    }
  }
}
