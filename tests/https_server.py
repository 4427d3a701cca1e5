"""A local https server with a CA made for the test: client ID metadata documents.

`http.server` wrapped in TLS, on 127.0.0.1 and a free port, with a certificate
for `localhost` signed by a CA generated for the test (deploy/tls.py, the cluster's
own), so the server's fetch verifies it for real. Documents are set per path while
it runs.
"""

import json
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from deploy import tls


@dataclass
class DocumentServer:
    """The running server: `url(path)`, `serve(path, document)`, `ca_file`."""

    port: int
    ca_file: Path
    documents: dict[str, bytes] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)

    def url(self, path: str = "/client.json") -> str:
        return f"https://localhost:{self.port}{path}"

    def serve(self, path: str, document: dict) -> str:
        self.documents[path] = json.dumps(document).encode()
        return self.url(path)


@contextmanager
def document_server(directory: Path) -> Iterator[DocumentServer]:
    """Serve JSON documents over TLS on 127.0.0.1 until the block ends."""
    ca_file, leaf, key = tls.ensure_certificates(directory)
    state: DocumentServer | None = None

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            state.requests.append(self.path)
            body = state.documents.get(self.path)
            if body is None:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(leaf, key)
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    state = DocumentServer(port=httpd.server_address[1], ca_file=ca_file)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)
