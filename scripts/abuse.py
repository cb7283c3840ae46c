#!/usr/bin/env python3
"""Bounded abuse of a running regionwatch, on loopback only, printing its RSS and CPU before,
at the peak and after each attack, so a regression in the listener limits or the bounded maps
is visible:

  idle      1,100 TCP connections to the OTLP port that send nothing, held 15 s
  slowloris 500 connections trickling header lines for 15 s
  bodies    100 keep-alive connections each sending one 8 MB body, then held open
  churn     a scrape target naming 5,000 new region label values every scrape, for 60 s

After each attack one valid export must still get HTTP 200 and the process must be alive.
Usage: scripts/abuse.py BINARY [attack ...]   (scripts/abuse.sh builds and starts it in tmux)
"""
import http.server
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time

OTLP_PORT = 14418
SCRAPE_PORT = 14419


def rss_mb(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def cpu_seconds(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Watch:
    """Samples RSS every 100 ms while an attack runs."""

    def __init__(self, pid):
        self.pid, self.running = pid, True
        self.before, self.cpu_before = rss_mb(pid), cpu_seconds(pid)
        self.peak = self.before
        self.thread = threading.Thread(target=self.sample, daemon=True)
        self.thread.start()

    def sample(self):
        while self.running:
            try:
                self.peak = max(self.peak, rss_mb(self.pid))
            except OSError:
                return
            time.sleep(0.1)

    def report(self, name, settle=5):
        time.sleep(settle)
        self.running = False
        self.thread.join()
        if not os.path.exists(f"/proc/{self.pid}"):
            print(f"{name:10} RSS before {self.before:7.1f} MB  peak {self.peak:7.1f} MB  PROCESS DIED", flush=True)
            return
        after, cpu = rss_mb(self.pid), cpu_seconds(self.pid) - self.cpu_before
        print(f"{name:10} RSS before {self.before:7.1f} MB  peak {self.peak:7.1f} MB  after {after:7.1f} MB  "
              f"(peak growth {self.peak - self.before:+.1f} MB)  CPU {cpu:.1f} s", flush=True)


def valid_export():
    body = bytes.fromhex("0a00")  # an empty ResourceSpans: a valid export with no spans
    try:
        with socket.create_connection(("127.0.0.1", OTLP_PORT), timeout=10) as s:
            s.sendall(b"POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-protobuf\r\n"
                      b"Connection: close\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
            return s.recv(100).split(b"\r\n")[0].decode() or "closed without an answer"
    except OSError as error:
        return f"failed: {error}"


def connect_many(count):
    sockets = []
    for _ in range(count):
        try:
            sockets.append(socket.create_connection(("127.0.0.1", OTLP_PORT), timeout=5))
        except OSError:
            break
    return sockets


def idle(pid):
    watch = Watch(pid)
    sockets = connect_many(1100)
    time.sleep(15)
    print(f"idle: {len(sockets)} connections opened; valid export during: {valid_export()}")
    for s in sockets:
        s.close()
    watch.report("idle")


def slowloris(pid):
    watch = Watch(pid)
    sockets = connect_many(500)
    for s in sockets:
        s.sendall(b"POST /v1/traces HTTP/1.1\r\nHost: x\r\n")
    closed = 0
    deadline = time.time() + 15
    while time.time() < deadline:
        for s in list(sockets):
            try:
                s.sendall(b"X-A: b\r\n")
            except OSError:
                sockets.remove(s)
                closed += 1
        time.sleep(1)
    print(f"slowloris: {closed} of 500 closed by regionwatch within 15 s")
    for s in sockets:
        s.close()
    watch.report("slowloris")


def bodies(pid):
    watch = Watch(pid)
    body = b"\x0a" + b"\xff" * 8_000_000  # 8 MB, malformed after the first byte: 400
    held, statuses = [], {}
    lock = threading.Lock()

    def send():
        try:
            s = socket.create_connection(("127.0.0.1", OTLP_PORT), timeout=30)
            s.sendall(b"POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-protobuf\r\n"
                      b"Content-Length: %d\r\n\r\n" % len(body) + body)
            status = s.recv(100).split(b"\r\n")[0].decode()
        except OSError as error:
            s, status = None, f"error {error.__class__.__name__}"
        with lock:
            statuses[status] = statuses.get(status, 0) + 1
            if s:
                held.append(s)

    threads = [threading.Thread(target=send) for _ in range(100)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    print(f"bodies: responses {statuses}; {len(held)} connections held open")
    watch.report("bodies")
    for s in held:
        s.close()


class Churn(http.server.BaseHTTPRequestHandler):
    scrape = 0

    def do_GET(self):
        Churn.scrape += 1
        lines = ["# TYPE http_requests_total counter"]
        for i in range(5000):
            region = f"r{Churn.scrape}-{i}"
            lines += [f'http_requests_total{{region="{region}"}} {Churn.scrape}', f'pg_replication_lag{{region="{region}"}} 1']
        payload = ("\n".join(lines) + "\n").encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):
        pass


def churn(pid):
    watch = Watch(pid)
    time.sleep(60)
    print(f"churn: {Churn.scrape} scrapes of 5,000 new labels")
    watch.report("churn", settle=10)


def main():
    pid = int(sys.argv[1])
    attacks = sys.argv[2:] or ["idle", "slowloris", "bodies", "churn"]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", SCRAPE_PORT), Churn)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    time.sleep(3)
    for attack in attacks:
        globals()[attack](pid)
        alive = os.path.exists(f"/proc/{pid}")
        print(f"           after {attack}: process {'alive' if alive else 'DEAD'}; valid export: {valid_export() if alive else '-'}", flush=True)
        if not alive:
            sys.exit(1)


if __name__ == "__main__":
    main()
