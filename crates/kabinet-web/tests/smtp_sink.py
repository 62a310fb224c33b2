"""A real SMTP server for tests (aiosmtpd): every message received is decoded
and written as one JSON file {to, from, from_header, subject, text, html} into the folder given."""
import email
import json
import os
import sys
import time
from email import policy

from aiosmtpd.controller import Controller


class Sink:
    def __init__(self, out):
        self.out = out
        self.n = 0

    async def handle_DATA(self, server, session, envelope):
        msg = email.message_from_bytes(envelope.content, policy=policy.default)
        plain = msg.get_body(preferencelist=("plain",))
        html = msg.get_body(preferencelist=("html",))
        record = {
            "to": envelope.rcpt_tos,
            "from": envelope.mail_from,
            "from_header": str(msg["from"]),
            "subject": str(msg["subject"]),
            "text": plain.get_content() if plain else "",
            "html": html.get_content() if html else "",
        }
        self.n += 1
        tmp = os.path.join(self.out, f".{self.n:05}.tmp")
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(record, f, ensure_ascii=False)
        os.rename(tmp, os.path.join(self.out, f"{self.n:05}.json"))
        return "250 OK"


def main():
    port, out = int(sys.argv[1]), sys.argv[2]
    controller = Controller(Sink(out), hostname="127.0.0.1", port=port)
    controller.start()
    print("ready", flush=True)
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    main()
