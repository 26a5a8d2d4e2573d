#!/usr/bin/env python3
"""The virtual rig's screen and finger (scripts/virtual-rig --ui, docs/hil.md): answers the
guest's requests through qemu's QMP socket until qemu goes away.

The guest (rig/guest) writes OUT/ui-request-N, one line; this answers OUT/ui-done-N with `ok` or
`error WHY`:
  shot NAME       QMP screendump of the display (PPM), converted to OUT/NAME.png
  tap X Y W H     a touch at pixel (X, Y) of the W x H screen: the usb-tablet's absolute axes
                  (0..0x7fff over the screen), then its left button down and up

Usage: rig/ui-driver.py QMP_SOCKET OUT
"""
import json
import os
import socket
import subprocess
import sys
import time

ABS_MAX = 0x7FFF


class Qmp:
    def __init__(self, path):
        deadline = time.time() + 60
        while True:
            try:
                self.sock = socket.socket(socket.AF_UNIX)
                self.sock.connect(path)
                break
            except OSError:
                self.sock.close()
                if time.time() > deadline:
                    raise
                time.sleep(0.2)
        self.file = self.sock.makefile("rw", encoding="utf-8")
        self.file.readline()  # the greeting
        self.run("qmp_capabilities")

    def run(self, execute, **arguments):
        message = {"execute": execute}
        if arguments:
            message["arguments"] = arguments
        self.file.write(json.dumps(message) + "\n")
        self.file.flush()
        while True:
            line = self.file.readline()
            if not line:
                raise EOFError("qemu closed its QMP socket")
            reply = json.loads(line)
            if "return" in reply:
                return reply["return"]
            if "error" in reply:
                raise RuntimeError(reply["error"].get("desc", str(reply["error"])))
            # An asynchronous event: not the answer.


def abs_events(x, y, width, height):
    scale = lambda v, size: max(0, min(ABS_MAX, round(v * ABS_MAX / max(1, size - 1))))
    return [
        {"type": "abs", "data": {"axis": "x", "value": scale(x, width)}},
        {"type": "abs", "data": {"axis": "y", "value": scale(y, height)}},
    ]


def shot(qmp, out, name):
    ppm = os.path.join(out, name + ".ppm")
    qmp.run("screendump", filename=ppm)
    # Written by qemu before it answers; wait until its size settles all the same.
    size = -1
    for _ in range(50):
        now = os.path.getsize(ppm) if os.path.exists(ppm) else -1
        if now > 0 and now == size:
            break
        size = now
        time.sleep(0.1)
    subprocess.run(["convert", ppm, os.path.join(out, name + ".png")], check=True)
    os.remove(ppm)


def tap(qmp, x, y, width, height):
    qmp.run("input-send-event", events=abs_events(x, y, width, height))
    time.sleep(0.2)
    qmp.run("input-send-event", events=[{"type": "btn", "data": {"down": True, "button": "left"}}])
    time.sleep(0.15)
    qmp.run("input-send-event", events=[{"type": "btn", "data": {"down": False, "button": "left"}}])


def main():
    if len(sys.argv) != 3 or sys.argv[1] in ("-h", "--help"):
        print(__doc__.strip())
        return 0 if len(sys.argv) == 2 else 2
    qmp = Qmp(sys.argv[1])
    out = sys.argv[2]
    n = 1
    while True:
        request = os.path.join(out, "ui-request-%d" % n)
        if not os.path.exists(request):
            try:
                qmp.run("query-status")
            except (EOFError, OSError):
                return 0
            time.sleep(0.2)
            continue
        with open(request, encoding="utf-8") as f:
            words = f.read().split()
        try:
            if words[:1] == ["shot"] and len(words) == 2:
                shot(qmp, out, words[1])
            elif words[:1] == ["tap"] and len(words) == 5:
                tap(qmp, *map(int, words[1:]))
            else:
                raise ValueError("unknown request %r" % " ".join(words))
            answer = "ok"
        except Exception as e:  # the guest gets the reason
            answer = "error %s" % e
        print("ui-driver: %s: %s" % (" ".join(words), answer), file=sys.stderr)
        with open(os.path.join(out, "ui-done-%d" % n), "w", encoding="utf-8") as f:
            f.write(answer + "\n")
        n += 1


if __name__ == "__main__":
    sys.exit(main())
