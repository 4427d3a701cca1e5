"""`python -m mcp_server`: the catalogue MCP server under uvicorn.

Settings come from the environment (`config/mcp.py`); it listens on the port of
`MCP_SERVER_URL` (8002) on loopback unless `--host` / `--port` say otherwise.
"""

import argparse
import asyncio
import logging
import sys

import httpx2
import uvicorn

from config import mcp as mcp_config
from mcp_server.server import app_from_settings


async def serve(settings: mcp_config.McpSettings, *, host: str, port: int) -> None:
    async with httpx2.AsyncClient(timeout=settings.timeout) as http:
        app = app_from_settings(settings, http=http)
        config = uvicorn.Config(app, host=host, port=port, log_level="info")
        await uvicorn.Server(config).serve()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mcp_server")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, help="default: the port of MCP_SERVER_URL")
    options = parser.parse_args(argv)
    try:
        settings = mcp_config.load()
    except mcp_config.ConfigurationError as error:
        sys.stderr.write(f"python -m mcp_server: {error}\n")
        return 2
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s %(message)s")
    # One line per outbound call (introspection, exchange, API) is noise at INFO.
    logging.getLogger("httpx2").setLevel(logging.WARNING)
    asyncio.run(serve(settings, host=options.host, port=options.port or settings.port))
    return 0


if __name__ == "__main__":
    sys.exit(main())
