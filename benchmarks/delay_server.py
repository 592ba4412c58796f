"""An HTTP/1.1 keep-alive server on loopback that answers every request after a fixed delay:
`python delay_server.py PORT [DELAY_MS]` (default 10 ms). It ignores request bodies (the
benchmarks send GETs).

One thread per connection, each sleeping until exactly DELAY_MS after the request's last byte
arrived. NOTE: an asyncio server does not hold a fixed delay: its loop rounds every wait up to
the next whole millisecond (and uvloop's timers count whole milliseconds), so `sleep(0.010)`
took 10-11 ms depending on when requests arrived relative to the loop's wake-ups, and two
clients with different arrival patterns measured different servers.
"""

import socket
import socketserver
import sys
import time

RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok"


class Handler(socketserver.BaseRequestHandler):
    def handle(self):
        try:
            self.serve(self.request)
        except OSError:
            pass  # the client closed or reset the connection

    def serve(self, sock):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        pending = b""
        while True:
            while b"\r\n\r\n" not in pending:
                chunk = sock.recv(65536)
                if not chunk:
                    return
                pending += chunk
            due = time.perf_counter() + self.server.delay
            _, pending = pending.split(b"\r\n\r\n", 1)
            while (left := due - time.perf_counter()) > 0:
                time.sleep(left)
            sock.sendall(RESPONSE)


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 1024


def main(port, delay):
    with Server(("127.0.0.1", port), Handler) as server:
        server.delay = delay
        print(f"delay server on http://127.0.0.1:{port}/ ({delay * 1000:.0f} ms)", flush=True)
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main(int(sys.argv[1]), float(sys.argv[2]) / 1000 if len(sys.argv) > 2 else 0.01)
