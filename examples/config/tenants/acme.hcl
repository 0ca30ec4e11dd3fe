# A Laravel application with a Reverb WebSocket server on /app and a
# two-process queue worker.
tenant "acme" {
  uid   = 10042
  shard = "web-1"

  webroot "main" {
    server_names  = ["acme.example.com", "www.acme.example.com"]
    public_folder = "public"

    daemon "reverb" {
      command       = "php artisan reverb:start --host=$HOST --port=$PORT"
      proxy_path    = "/app"
      max_memory_mb = 256
      environment = {
        APP_ENV = "production"
      }
    }

    daemon "queue" {
      command       = "php artisan queue:work --sleep=3 --tries=3"
      num_procs     = 2
      max_memory_mb = 256
    }
  }
}
