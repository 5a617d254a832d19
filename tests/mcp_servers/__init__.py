"""Real MCP servers written with the SDK, started by the tests (over stdio, or streamable HTTP on 127.0.0.1)."""
