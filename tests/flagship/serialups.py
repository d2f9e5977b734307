#!/usr/bin/env python3
"""The flagship test's serial UPS: a megatec/Q1 UPS on the far side of qemu's emulated FTDI
USB-to-serial cable (usb-serial, chardev socket). qemu connects to the UNIX socket this program
listens on; what the guest writes to /dev/ttyUSB0 arrives here, and replies go back the same way.

The guest steers it in band, with lines no NUT driver sends:
  USBRECOVER-HANG     stop answering (the UPS, or the cable, is wedged; nothing the host does to
                      the USB side reaches this end, so it stays wedged until told otherwise)
  USBRECOVER-ANSWER   answer again

usage: serialups.py SOCKET_PATH LOG_PATH
"""
import os
import socket
import sys
import time

REPLIES = {
    b"Q1": b"(230.0 230.0 230.0 021 50.0 27.2 25.0 00001001\r",
    b"I": b"#SERIAL UPS      SIMULATED  2.0       \r",
    b"F": b"#230.0 004 24.00 50.0\r",
}


def main():
    path, log_path = sys.argv[1], sys.argv[2]
    if os.path.exists(path):
        os.unlink(path)
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    server.listen(1)
    server.settimeout(120)
    log = open(log_path, "a", buffering=1)
    start = time.monotonic()

    def say(text):
        log.write(f"[{time.monotonic() - start:8.3f}] {text}\n")

    say("listening")  # tests/flagship/run starts qemu once this line is there

    conn, _ = server.accept()
    say("qemu connected")
    hung = False
    pending = b""
    while True:
        data = conn.recv(256)
        if not data:
            say("qemu disconnected")
            return
        pending += data
        while b"\r" in pending:
            line, pending = pending.split(b"\r", 1)
            command = line.strip(b"\n\x00 ")
            if command == b"USBRECOVER-HANG":
                hung = True
                say("hung")
            elif command == b"USBRECOVER-ANSWER":
                hung = False
                say("answering")
            elif hung:
                say(f"{command!r} unanswered (hung)")
            else:
                # Like the real units: a command it does not know comes back as it was sent.
                conn.sendall(REPLIES.get(command, command + b"\r"))


if __name__ == "__main__":
    main()
