# A tenant with a small web daemon proxied on /app and a background worker.
# python3 ships with supervisor, so the demo needs nothing else.
tenant "hello" {
  uid   = 10100
  shard = "demo"

  webroot "www" {
    server_names = ["hello.example.com"]

    daemon "web" {
      command    = "python3 -m http.server --bind $HOST $PORT"
      proxy_path = "/app"
      environment = {
        GREETING = "hello from drover"
      }
    }

    daemon "worker" {
      command   = "sh -c 'while sleep 5; do echo \"$GREETING: tick\"; done'"
      num_procs = 2
      environment = {
        GREETING = "worker"
      }
    }
  }
}
