#!/usr/bin/python3
# A tiny HTTP backend for end-to-end tests: listens on [ADDR]:PORT and answers
# every request with JSON naming itself, the request path and its headers.
import json, socket, sys
from http.server import BaseHTTPRequestHandler, HTTPServer

addr, port, name = sys.argv[1], int(sys.argv[2]), sys.argv[3]

class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        body = json.dumps({"name": name, "path": self.path,
                           "headers": {k.lower(): v for k, v in self.headers.items()}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass

class Server(HTTPServer):
    address_family = socket.AF_INET6

Server((addr, port), Handler).serve_forever()
