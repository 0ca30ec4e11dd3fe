# Acme: the main customer.
tenant "acme" {
  uid   = 10042        # Linux uid
  shard="web-1"   // odd spacing kept

  webroot "main" {
      server_names = ["acme.example.com"]

      # The websocket server.
      daemon "reverb" {
        command = "php artisan reverb:start --port=$PORT"   # inline
        proxy_path="/app"
        environment = {
          APP_ENV = "production" # comment in env
          # comment line in env
          APP_KEY = "base64:xyz"
        }
      }

      /* The queue worker,
         two processes. */
      daemon "queue" {
        command = <<EOT
php artisan queue:work --queue=high,default
EOT
        num_procs=2
      }
  }

  webroot "empty" {}
}
