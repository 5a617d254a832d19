"""[mcp.servers.NAME] and [tools] in the config, and the function names DeepSeek sees (no servers run)."""

from __future__ import annotations

import re
import tomllib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from deepseek_tui.config import ConfigError, load_config, parse_config, save_config
from deepseek_tui.tools.config import ToolSettings, parse_server
from deepseek_tui.tools.naming import MAX_NAME_LENGTH, api_names, clean

VALID = re.compile(r"^[A-Za-z0-9_-]{1,128}$")


def test_servers_and_limits_are_read():
    config = parse_config(
        tomllib.loads("""
[tools]
max_rounds = 5
max_result_chars = 1000
call_timeout = 12.5

[mcp.servers.files]
command = "npx"
args = ["-y", "@modelcontextprotocol/server-filesystem", "/notes"]
env = { LOG = "1" }
cwd = "~"
allow = ["read_text_file"]

[mcp.servers.files.tools.list_directory]
confirm = false

[mcp.servers.remote]
url = "http://127.0.0.1:9/mcp"
headers = { Authorization = "Bearer x" }
enabled = false
""")
    )
    assert config.tools == ToolSettings(max_rounds=5, max_result_chars=1000, call_timeout=12.5)
    files, remote = config.mcp_servers
    assert (files.name, files.transport, files.command, files.args, files.env, files.cwd) == (
        "files",
        "stdio",
        "npx",
        ("-y", "@modelcontextprotocol/server-filesystem", "/notes"),
        {"LOG": "1"},
        "~",
    )
    assert files.allows("read_text_file") and not files.allows("write_file")
    assert not files.confirms("list_directory") and files.confirms("read_text_file")
    assert (remote.transport, remote.url, remote.headers, remote.enabled) == (
        "http",
        "http://127.0.0.1:9/mcp",
        {"Authorization": "Bearer x"},
        False,
    )
    assert not files.problem and not remote.problem
    assert remote.describe() == "http://127.0.0.1:9/mcp" and files.describe().startswith("npx -y ")
    secret = parse_server("s", {"url": "https://me:hunter2@example.com/mcp?x=1"})
    assert secret.describe() == "https://example.com/mcp?x=1"


@pytest.mark.parametrize(
    ("table", "problem"),
    [
        ({}, "give either command"),
        ({"command": "x", "url": "http://h"}, "give either command"),
        ({"comand": "x"}, "unknown key 'comand'"),
        ({"command": "x", "args": "a b"}, "args must be a list of strings"),
        ({"url": "ftp://h"}, "url must start with http"),
        ({"command": "x", "env": {"A": 1}}, "env must be a table of strings"),
        ({"command": "x", "tools": {"t": {"confirm": "no"}}}, "confirm must be true or false"),
        ({"command": "x", "enabled": "yes"}, "enabled must be true or false"),
    ],
)
def test_a_server_table_that_cannot_be_used_is_a_failed_server_not_a_failed_start(table, problem):
    server = parse_server("box", table)
    assert problem in server.problem
    config = parse_config({"mcp": {"servers": {"box": table}}})  # the app still starts
    assert problem in config.mcp_servers[0].problem


@pytest.mark.parametrize("value", [0, -1, "20", True, 1.5])
def test_bad_tool_limits_stop_the_start_with_a_clear_message(value):
    with pytest.raises(ConfigError, match=r"\[tools\] max_rounds"):
        parse_config({"tools": {"max_rounds": value}})


def test_the_app_writes_the_server_tables_back_as_written(tmp_path):
    path = tmp_path / "config.toml"
    text = (
        '[mcp.servers.files]\ncommand = "npx"\nargs = ["-y", "server"]\n\n'
        "[mcp.servers.files.tools.list_directory]\nconfirm = false\n\n"
        '[mcp.servers.broken]\ncomand = "typo"\n\n[tools]\nmax_rounds = 3\n'
    )
    path.write_text(text)
    config = load_config(path)
    save_config(config, path)  # what the app does when a setting changes
    again = tomllib.loads(path.read_text())
    assert again["mcp"] == tomllib.loads(text)["mcp"]
    assert again["tools"] == {"max_rounds": 3}
    assert load_config(path).mcp_servers == config.mcp_servers


def test_names_are_cleaned_and_clashes_prefixed_with_the_server():
    names = api_names([("files", "search"), ("web", "search"), ("files", "read.file"), ("web", "fetch url")])
    assert names == {
        ("files", "search"): "files__search",
        ("web", "search"): "web__search",
        ("files", "read.file"): "read_file",
        ("web", "fetch url"): "fetch_url",
    }


def test_long_names_are_cut_to_128_with_a_hash_and_stay_unique():
    long = "x" * 200
    names = api_names([("a", long), ("b", long + "y"), ("a", "q/1"), ("a", "q_1")])
    assert all(VALID.match(name) for name in names.values())
    assert len(set(names.values())) == 4
    assert names[("a", long)] != names[("b", long + "y")]
    assert {names[("a", "q/1")], names[("a", "q_1")]} == {"q_1", "q_1_2"}


@given(st.lists(st.tuples(st.text(max_size=8), st.text(max_size=200)), max_size=12))
def test_every_name_is_valid_unique_and_the_same_in_any_order(pairs):
    names = api_names(pairs)
    assert set(names) == set(pairs)
    assert all(VALID.match(name) and len(name) <= MAX_NAME_LENGTH for name in names.values())
    assert len(set(names.values())) == len(names)
    assert api_names(list(reversed(pairs))) == names


def test_clean():
    assert clean("") == "tool"
    assert clean("a.b c-d_é") == "a_b_c-d__"
