"""An HTTP/1.1 keep-alive server on loopback that answers every request after a fixed delay:
`python delay_server.py PORT [DELAY_MS]` (default 10 ms). asyncio, so many connections cost
little; it ignores request bodies (the benchmarks send GETs)."""

import asyncio
import sys

RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok"


async def serve(reader, writer, delay):
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            if not head:
                break
            await asyncio.sleep(delay)
            writer.write(RESPONSE)
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


async def main(port, delay):
    server = await asyncio.start_server(lambda r, w: serve(r, w, delay), "127.0.0.1", port)
    print(f"delay server on http://127.0.0.1:{port}/ ({delay * 1000:.0f} ms)", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), float(sys.argv[2]) / 1000 if len(sys.argv) > 2 else 0.01))
