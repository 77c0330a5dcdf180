"""Ask one DNS server for one A record: ``python dnsprobe.py SERVER NAME``; prints the address.

Exits 1 without output when the server does not answer or has no address for the name.
"""

import random
import socket
import struct
import sys


def query(server: str, name: str, timeout: float = 3) -> str | None:
    ident = random.randrange(65536)
    question = b"".join(bytes([len(p)]) + p.encode() for p in name.split(".")) + b"\0"
    packet = struct.pack(">HHHHHH", ident, 0x0100, 1, 0, 0, 0) + question + struct.pack(">HH", 1, 1)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(timeout)
        sock.sendto(packet, (server, 53))
        try:
            reply, _ = sock.recvfrom(4096)
        except TimeoutError:
            return None
    got_id, flags, _qd, answers = struct.unpack(">HHHH", reply[:8])
    if got_id != ident or flags & 0x000F or not answers:
        return None
    offset = 12 + len(question) + 4
    for _ in range(answers):
        offset += 2  # a compressed pointer to the name
        rtype, _cls, _ttl, length = struct.unpack(">HHIH", reply[offset : offset + 10])
        offset += 10
        if rtype == 1 and length == 4:
            return socket.inet_ntoa(reply[offset : offset + 4])
        offset += length
    return None


if __name__ == "__main__":
    address = query(sys.argv[1], sys.argv[2])
    if address is None:
        sys.exit(1)
    print(address)
