"""The catalogue MCP server: the book catalogue as tools for AI agents (`python -m mcp_server`)."""
