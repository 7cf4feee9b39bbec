#!/usr/bin/env python3
"""A kubelet stand-in for the live tests of --usage and --logs.

Serves, over TLS, only what the API server's node proxy asks a kubelet for
in those tests, from files under ROOT:

  GET /stats/summary                 -> ROOT/stats-summary.json
  GET /containerLogs/NS/POD/CONTAINER -> ROOT/logs/NS/POD/CONTAINER

Anything else, and any method but GET, is refused. Every request is logged,
one JSON line each, to ROOT/requests.log, so a test can check what reached
the node. Listens on ADDRESS:PORT only; writes the port to ROOT/port once
it listens (PORT 0 picks one).

usage: kubelet-standin.py ROOT ADDRESS PORT CERT KEY
"""
import http.server
import json
import os
import ssl
import sys
import urllib.parse

root, address, port, cert, key = sys.argv[1:6]


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def record(self, status):
        with open(os.path.join(root, "requests.log"), "a") as f:
            f.write(json.dumps({"method": self.command, "path": self.path, "status": status}) + "\n")

    def send(self, status, body, kind):
        self.record(status)
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def refuse(self):
        self.send(405, b"method not allowed\n", "text/plain")

    do_POST = do_PUT = do_PATCH = do_DELETE = refuse

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        parts = [urllib.parse.unquote(p) for p in url.path.split("/") if p]
        if parts == ["stats", "summary"]:
            file = os.path.join(root, "stats-summary.json")
            kind = "application/json"
        elif len(parts) == 4 and parts[0] == "containerLogs" and all(
            p not in (".", "..") and "/" not in p for p in parts[1:]
        ):
            file = os.path.join(root, "logs", *parts[1:])
            kind = "text/plain"
        else:
            return self.send(404, b"not found\n", "text/plain")
        try:
            with open(file, "rb") as f:
                body = f.read()
        except OSError:
            return self.send(404, b"not found\n", "text/plain")
        query = urllib.parse.parse_qs(url.query)
        if "tailLines" in query:
            lines = body.splitlines(keepends=True)
            body = b"".join(lines[-int(query["tailLines"][0]):])
        if "limitBytes" in query:
            body = body[: int(query["limitBytes"][0])]
        self.send(200, body, kind)


server = http.server.ThreadingHTTPServer((address, int(port)), Handler)
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(cert, key)
server.socket = context.wrap_socket(server.socket, server_side=True)
with open(os.path.join(root, "port.tmp"), "w") as f:
    f.write(str(server.server_address[1]))
os.replace(os.path.join(root, "port.tmp"), os.path.join(root, "port"))
server.serve_forever()
