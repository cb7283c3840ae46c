#!/usr/bin/env python3
"""Time from start to first frame: spawn regionwatch on a pseudo-terminal and time until the
first frame (the three demo regions) has been written. Also reports the program's own
measurement from its log (from `main` to the first frame presented).

    scripts/bench-startup.py [--runs 15] [--bin .build/release/regionwatch]
"""
import argparse, fcntl, os, pty, re, select, signal, statistics, struct, subprocess, tempfile, termios, time

parser = argparse.ArgumentParser()
parser.add_argument("--runs", type=int, default=15)
parser.add_argument("--bin", default=".build/release/regionwatch")
args = parser.parse_args()
os.chdir(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
if not os.access(args.bin, os.X_OK):
    subprocess.run(["swift", "build", "-c", "release", "--product", "regionwatch"], check=True, stdout=subprocess.DEVNULL)

outside, inside = [], []
for _ in range(args.runs):
    state = tempfile.mkdtemp()
    log = os.path.join(state, "rw.log")
    start = time.perf_counter()
    pid, fd = pty.fork()
    if pid == 0:
        fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
        os.execve(args.bin, [args.bin, "--log", log], {"TERM": "xterm-256color", "LANG": "C.UTF-8", "HOME": state})
    seen = b""
    deadline = start + 10
    while time.perf_counter() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.5)
        if ready:
            try:
                seen += os.read(fd, 65536)
            except OSError:
                break
            if b"ap-southeast-1" in seen and b"us-east-1" in seen:
                outside.append((time.perf_counter() - start) * 1000)
                break
    os.kill(pid, signal.SIGTERM)
    os.waitpid(pid, 0)
    os.close(fd)
    match = re.search(r"millisecondsSinceStart=([0-9.]+)", open(log).read()) if os.path.exists(log) else None
    if match:
        inside.append(float(match.group(1)))

def summary(values):
    return f"median {statistics.median(values):.1f} ms  min {min(values):.1f} ms  max {max(values):.1f} ms" if values else "no data"

print(f"start to first frame over {args.runs} runs (120x40 pseudo-terminal, built-in demo)")
print(f"  spawn → first frame on the terminal   {summary(outside)}  (target < 300 ms)")
print(f"  main → first frame presented (log)    {summary(inside)}")
