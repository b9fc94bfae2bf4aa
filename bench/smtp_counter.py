"""An SMTP sink for benchmarks: appends each received Message-ID to a file."""

import sys
import time

from aiosmtpd.controller import Controller


class Recorder:
    def __init__(self, path: str):
        self.log = open(path, "a", buffering=1)  # noqa: SIM115 (open for the process's life)

    async def handle_DATA(self, server, session, envelope):
        for line in envelope.content.split(b"\r\n"):
            if line.lower().startswith(b"message-id:"):
                self.log.write(line.split(b":", 1)[1].strip().decode() + "\n")
                break
        return "250 OK"


if __name__ == "__main__":
    port, path = int(sys.argv[1]), sys.argv[2]
    controller = Controller(Recorder(path), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        controller.stop()
