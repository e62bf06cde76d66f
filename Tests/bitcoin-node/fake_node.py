#!/usr/bin/env python3
"""A stand-in for a Bitcoin Core node's JSON-RPC port, for tests of `kinko custody bitcoin
sync-node`: it checks Basic authentication and that the call is `scantxoutset start` with one
checksummed descriptor per branch, records the request, and answers with the unspents given
(amounts written as Core writes them: a JSON number with 8 decimals).

    fake_node.py PORT_FILE UNSPENTS_JSON HEIGHT USER:PASSWORD REQUEST_LOG
"""
import base64
import http.server
import json
import signal
import sys
import time

# A test runner may spawn this with signals blocked: let SIGTERM end it, and end anyway after
# two minutes.
signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})
deadline = time.monotonic() + 120

port_file, unspents_file, height, credentials, request_log = sys.argv[1:6]
unspents = json.load(open(unspents_file))


class Node(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def answer(self, status, text):
        body = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        expected = "Basic " + base64.b64encode(credentials.encode()).decode()
        if self.headers.get("Authorization") != expected:
            self.answer(401, "")
            return
        request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        with open(request_log, "w") as log:
            json.dump(request, log)
        params = request.get("params", [])
        if request.get("method") != "scantxoutset" or params[0] != "start" or len(params[1]) != 2 or not all("#" in o["desc"] for o in params[1]):
            self.answer(500, json.dumps({"result": None, "error": {"code": -8, "message": "bad scan"}, "id": request.get("id")}))
            return
        rows = ", ".join(
            '{"txid": "%s", "vout": %d, "scriptPubKey": "%s", "desc": "raw(%s)", "amount": %s, "coinbase": false, "height": %d}'
            % (u["txid"], u["vout"], u["scriptPubKey"], u["scriptPubKey"], u["amount"], u["height"]) for u in unspents)
        self.answer(200, '{"result": {"success": true, "txouts": 1234, "height": %s, "bestblock": "%s", "unspents": [%s], "total_amount": 0}, "error": null, "id": "%s"}'
                    % (height, "00" * 32, rows, request.get("id")))


server = http.server.HTTPServer(("127.0.0.1", 0), Node)
server.timeout = 1
with open(port_file, "w") as f:
    f.write(str(server.server_address[1]))
while time.monotonic() < deadline:
    server.handle_request()
