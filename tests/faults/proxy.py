#!/usr/bin/env python3
"""An HTTP proxy in front of the local S3 server that fails some of its requests, the way S3 and
networks fail, so that the end-to-end tests can run every job through it.

Each request draws from a seeded generator (so a failing schedule replays with the same seed):
with probability --rate it gets one of the --faults instead of the server's answer:

  500       InternalError, before the request reaches the server
  503       SlowDown, before the request reaches the server
  reset     the connection closed without an answer (TCP reset), before the request reaches it
  truncate  GETs only: the server's answer with all its headers but half of its body, then closed

Faults that precede the server leave it untouched, as S3's do; a write that reached it is never
failed (a write failed after it happened would be a different, ambiguous fault that S3 reports
with the same codes, and that a conditional create cannot tell from another writer).

--latency-ms and --mbps shape every answer instead (first-byte delay, per-connection rate): S3 as
one stream sees it, for the benchmark.

Prints the port it listens on, then serves until killed; --log names a file that gets one line per
injected fault: "<request number> <fault> <method> <path>".
"""

import argparse
import http.client
import http.server
import random
import socket
import struct
import sys
import threading
import time
import urllib.parse

FAULTS = ("500", "503", "reset", "truncate")

ERROR_BODY = {
    "500": ("InternalError", "We encountered an internal error. Please try again."),
    "503": ("SlowDown", "Please reduce your request rate."),
}


class Schedule:
    """Which request fails how: a seeded draw per request, shared by every connection."""

    def __init__(self, rate, faults, seed, log):
        self.rate, self.faults, self.random = rate, faults, random.Random(seed)
        self.lock, self.count, self.log = threading.Lock(), 0, log

    def draw(self, method, path):
        with self.lock:
            self.count += 1
            number = self.count
            roll, pick = self.random.random(), self.random.choice(self.faults)
        if roll >= self.rate:
            return None
        if pick == "truncate" and method != "GET":
            return None
        if self.log:
            with self.lock, open(self.log, "a", encoding="utf-8") as out:
                out.write(f"{number} {pick} {method} {path}\n")
        return pick


def read_body(rfile, headers):
    """The request body: by Content-Length, or de-chunked."""
    if headers.get("Transfer-Encoding", "").lower() == "chunked":
        body = bytearray()
        while True:
            size = int(rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass
                return bytes(body)
            body += rfile.read(size)
            rfile.readline()
    length = int(headers.get("Content-Length") or 0)
    return rfile.read(length) if length else b""


def make_handler(upstream, schedule, latency, bytes_per_second):
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def handle_any(self):
            body = read_body(self.rfile, self.headers)
            fault = schedule.draw(self.command, self.path) if schedule else None
            if fault == "reset":
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                self.close_connection = True
                return
            if fault in ERROR_BODY:
                code, message = ERROR_BODY[fault]
                text = (
                    '<?xml version="1.0" encoding="UTF-8"?>\n'
                    f"<Error><Code>{code}</Code><Message>{message}</Message></Error>"
                ).encode()
                self.send_response(int(fault))
                self.send_header("Content-Type", "application/xml")
                self.send_header("Content-Length", str(len(text)))
                self.end_headers()
                self.wfile.write(text)
                return
            conn = http.client.HTTPConnection(upstream.hostname, upstream.port, timeout=60)
            headers = {k: v for k, v in self.headers.items() if k.lower() != "transfer-encoding"}
            if body or self.command in ("PUT", "POST"):
                headers["Content-Length"] = str(len(body))
            conn.request(self.command, self.path, body=body, headers=headers)
            answer = conn.getresponse()
            length = answer.getheader("Content-Length")
            data = None if length is not None else answer.read()
            size = int(length) if length is not None else len(data)
            if latency:
                time.sleep(latency)
            self.send_response_only(answer.status, answer.reason)
            for k, v in answer.getheaders():
                if k.lower() not in ("transfer-encoding", "connection", "content-length"):
                    self.send_header(k, v)
            self.send_header("Content-Length", str(size))
            self.end_headers()
            if self.command == "HEAD":
                conn.close()
                return
            # Stream the answer through, cut in half for a truncate fault, paced for --mbps.
            limit = size // 2 if fault == "truncate" and size > 1 else size
            sent, started = 0, time.monotonic()
            while sent < limit:
                step = min(256 * 1024, limit - sent)
                if data is not None:
                    chunk = data[sent : sent + step]
                else:
                    chunk = answer.read(step)
                if not chunk:
                    break
                self.wfile.write(chunk)
                sent += len(chunk)
                if bytes_per_second:
                    ahead = sent / bytes_per_second - (time.monotonic() - started)
                    if ahead > 0:
                        time.sleep(ahead)
            conn.close()
            if limit < size:
                self.wfile.flush()
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                self.close_connection = True

        do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = handle_any

    return Handler


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--upstream", required=True, help="the S3 server, e.g. http://127.0.0.1:5000")
    parser.add_argument("--port", type=int, default=0, help="port to listen on (0: any free one)")
    parser.add_argument("--rate", type=float, default=0.0, help="share of requests that fail (0 to 1)")
    parser.add_argument("--faults", default=",".join(FAULTS), help="comma-separated: " + ", ".join(FAULTS))
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--log", help="file to append one line per injected fault to")
    parser.add_argument("--latency-ms", type=float, default=0.0, help="first-byte delay of every answer")
    parser.add_argument("--mbps", type=float, default=0.0, help="per-connection rate cap in MB/s (0: none)")
    args = parser.parse_args()
    faults = [f for f in args.faults.split(",") if f]
    for f in faults:
        if f not in FAULTS:
            parser.error(f"unknown fault {f!r}; known: {', '.join(FAULTS)}")
    schedule = Schedule(args.rate, faults, args.seed, args.log) if args.rate > 0 and faults else None
    handler = make_handler(urllib.parse.urlparse(args.upstream), schedule, args.latency_ms / 1000, args.mbps * 1e6)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", args.port), handler)
    server.daemon_threads = True
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
