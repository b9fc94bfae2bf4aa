"""An SMTP server a network away: it answers every command 20 ms late (asyncio sleeps, so
it costs no CPU) and appends each received Message-ID to a file."""

import asyncio
import sys

DELAY_SECONDS = float(sys.argv[3]) if len(sys.argv) > 3 else 0.02


async def session(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, log) -> None:
    writer.write(b"220 slow.example ESMTP\r\n")
    while line := await reader.readline():
        command = line[:4].upper()
        await asyncio.sleep(DELAY_SECONDS)
        if command in (b"EHLO", b"HELO"):
            writer.write(b"250 slow.example\r\n")
        elif command == b"DATA":
            writer.write(b"354 go ahead\r\n")
            await writer.drain()
            message_id = b""
            while (data := await reader.readline()) not in (b".\r\n", b""):
                if not message_id and data[:11].lower() == b"message-id:":
                    message_id = data[11:].strip()
            await asyncio.sleep(DELAY_SECONDS)
            log.write(message_id.decode() + "\n")
            writer.write(b"250 queued\r\n")
        elif command == b"QUIT":
            writer.write(b"221 bye\r\n")
            await writer.drain()
            break
        else:
            writer.write(b"250 ok\r\n")
        await writer.drain()
    writer.close()


async def main(port: int, path: str) -> None:
    with open(path, "a", buffering=1) as log:
        server = await asyncio.start_server(lambda r, w: session(r, w, log), "127.0.0.1", port, backlog=256)
        async with server:
            await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), sys.argv[2]))
