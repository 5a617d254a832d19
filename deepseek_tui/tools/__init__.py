"""Tools for the model: MCP servers from the config, run through the official `mcp` SDK (no Textual).

`config` reads `[mcp.servers.NAME]` and `[tools]`; `naming` turns server and tool names into the
function names DeepSeek accepts; `host.McpHost` starts the servers in the background and is the
`ToolRunner` the tool loop (`deepseek_tui.conversation.tool_loop`) calls. Importing this package
does not import `mcp` (it takes most of a second): the host imports it when a server starts.
"""
