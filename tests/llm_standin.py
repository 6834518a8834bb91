"""A stand-in OpenAI-compatible server on 127.0.0.1, for faults and deterministic replies: its
``reply(messages)`` callable writes the answer; ``fault`` makes it fail ("500", "notjson",
"hang", "badstream"). It records the requests it got (headers and bodies)."""
from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class StandIn:
    def __init__(self, reply=lambda messages: "NOT IN THE SOURCES", model: str = "standin-1",
                 fault: str = "", hang_seconds: float = 60.0, chunk_delay: float = 0.0) -> None:
        self.reply, self.model, self.fault, self.hang_seconds = reply, model, fault, hang_seconds
        self.chunk_delay = chunk_delay  # seconds between streamed pieces, to watch it write
        self.requests: list[dict] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def _send(self, status: int, body: bytes, kind: str = "application/json"):
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                owner.requests.append({"path": self.path, "headers": dict(self.headers)})
                if self.path.endswith("/models"):
                    self._send(200, json.dumps({"object": "list", "data": [
                        {"id": owner.model, "object": "model"}]}).encode())
                else:
                    self._send(404, b'{"error": "not found"}')

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
                owner.requests.append({"path": self.path, "headers": dict(self.headers),
                                       "body": body})
                if owner.fault == "500":
                    return self._send(500, b'{"error": "model crashed"}')
                if owner.fault == "notjson":
                    return self._send(200, b"<html>hello</html>", "text/html")
                if owner.fault == "hang":
                    time.sleep(owner.hang_seconds)
                    return self._send(200, b"{}")
                text = owner.reply(body["messages"])
                if not body.get("stream"):
                    return self._send(200, json.dumps({"choices": [{"index": 0, "message": {
                        "role": "assistant", "content": text}}]}).encode())
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                if owner.fault == "badstream":
                    self.wfile.write(b"data: {not json\n\n")
                    return
                for i in range(0, len(text), 7):  # a few characters an event, as servers do
                    event = {"choices": [{"index": 0, "delta": {"content": text[i:i + 7]}}]}
                    self.wfile.write(f"data: {json.dumps(event)}\n\n".encode())
                    self.wfile.flush()
                    time.sleep(owner.chunk_delay)
                self.wfile.write(b"data: [DONE]\n\n")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> StandIn:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


def passage_with(messages: list[dict], words: str) -> int:
    """The number [n] of the passage in the prompt that holds ``words``."""
    import re

    prompt = messages[-1]["content"]
    for n, text in re.findall(r'<passage id="(\d+)"[^>]*>\n(.*?)\n</passage>', prompt, re.S):
        if words in text:
            return int(n)
    raise AssertionError(f"no passage holds {words!r}")


# The ways real models (Ollama, llama.cpp, vLLM) write a cited reply, for styled().
STYLES = ("plain", "after-stop", "source-paren", "source-bracket", "cjk", "caret", "framing",
          "bullets", "bold", "paragraph-end")


def styled(sentences: list[tuple[str, int]], style: str) -> str:
    """A reply of ``sentences`` ((text without its full stop, passage number)) written in
    ``style``: markers after the full stop, "(Source [1])", "[Source 1]", "【1】", "^1",
    framing words, a bulleted list with bold, bold sentences, or one marker closing a
    paragraph (when every sentence cites the same passage; else plain)."""
    def cap(text: str) -> str:
        return text[0].lower() + text[1:] if text[:2] != text[:2].upper() else text

    if style == "paragraph-end" and len({n for _, n in sentences}) == 1:
        return ". ".join(t for t, _ in sentences) + f". [{sentences[0][1]}]"
    write = {
        "after-stop": lambda t, n: f"{t}.[{n}]",
        "source-paren": lambda t, n: f"{t} (Source [{n}]).",
        "source-bracket": lambda t, n: f"{t} [Source {n}].",
        "cjk": lambda t, n: f"{t}【{n}】.",
        "caret": lambda t, n: f"{t}.^{n}",
        "framing": lambda t, n: f"According to passage {n}, {cap(t)} [{n}].",
        "bullets": lambda t, n: f"- **{t.split()[0]}** {' '.join(t.split()[1:])} [{n}]",
        "bold": lambda t, n: f"**{t}.** [{n}]",
    }.get(style, lambda t, n: f"{t} [{n}].")
    joiner = "\n" if style == "bullets" else " "
    head = "Here is what the sources say:\n" if style == "bullets" else ""
    return head + joiner.join(write(t, n) for t, n in sentences)
