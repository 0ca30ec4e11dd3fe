#!/usr/bin/python3
# A tiny HTTP backend for end-to-end tests: listens on [ADDR]:PORT and answers
# every request with JSON naming itself, the address it listens on, the
# request path, its headers, its uid and the GREETING variable. A WebSocket handshake (Upgrade: websocket)
# is answered with 101 Switching Protocols and one text frame holding the
# name, then the connection closes.
import base64, hashlib, json, os, socket, sys
from http.server import BaseHTTPRequestHandler, HTTPServer

addr, port, name = sys.argv[1], int(sys.argv[2]), sys.argv[3]
WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        if self.headers.get("Upgrade", "").lower() == "websocket":
            key = self.headers.get("Sec-WebSocket-Key", "")
            accept = base64.b64encode(hashlib.sha1((key + WS_GUID).encode()).digest()).decode()
            self.send_response(101, "Switching Protocols")
            self.send_header("Upgrade", "websocket")
            self.send_header("Connection", "Upgrade")
            self.send_header("Sec-WebSocket-Accept", accept)
            self.end_headers()
            payload = ("websocket " + name).encode()
            self.wfile.write(bytes([0x81, len(payload)]) + payload)
            self.wfile.flush()
            self.close_connection = True
            return
        body = json.dumps({"name": name, "addr": addr, "path": self.path, "uid": os.getuid(),
                           "greeting": os.environ.get("GREETING", ""),
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
