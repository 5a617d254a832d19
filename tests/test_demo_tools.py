"""The demo's MCP server (deepseek_tui/demo_tools.py): a calculator that never evaluates code, and
the date from the app's clock; started by --demo without any configuration."""

from __future__ import annotations

import pytest

from deepseek_tui.config import AppConfig
from deepseek_tui.demo_tools import CalculationError, build_server, calculate, describe_date
from deepseek_tui.tools.config import ToolSettings
from deepseek_tui.tools.host import McpHost
from deepseek_tui.ui.launch import demo_config


@pytest.mark.parametrize(
    ("expression", "value"),
    [
        ("17 * 23 + 4", "395"),
        ("2**10", "1024"),
        ("2^10", "1024"),
        ("(1 + 2) / 4", "0.75"),
        ("7 // 2", "3"),
        ("-3 ** 2", "-9"),
        ("10 % 3", "1"),
        ("0.1 + 0.2", "0.3"),
        ("6 × 7", "42"),
        ("1 ÷ 8", "0.125"),
    ],
)
def test_arithmetic(expression, value):
    assert calculate(expression) == value


@pytest.mark.parametrize(
    ("expression", "why"),
    [
        ("__import__('os').system('true')", "only numbers"),
        ("a + 1", "only numbers"),
        ("(1).__class__", "only numbers"),
        ("[1, 2]", "only numbers"),
        ("'ab' * 3", "only numbers"),
        ("True + 1", "only numbers"),
        ("2 ** 100000", "exponents above"),
        ("9 ** 999 * 9 ** 999", "more than 400 digits"),
        ("(10 ** 399) ** 1000", "more than 400 digits"),
        ("1 / 0", "division by zero"),
        ("1 +", "not an arithmetic expression"),
        ("1" * 201, "longer than 200"),
        ("(-8) ** 0.5", "not a real number"),
    ],
)
def test_anything_else_is_refused_with_a_reason(expression, why):
    with pytest.raises(CalculationError, match=why):
        calculate(expression)


async def test_the_date_comes_from_the_app_clock(pinned_clock):
    from mcp import Client

    assert describe_date(pinned_clock.now()) == "Wednesday 2026-11-25, 12:00 UTC"
    async with Client(build_server()) as client:  # in-process: the pinned clock applies
        result = await client.call_tool("current_date", {})
        names = [tool.name for tool in (await client.list_tools()).tools]
    assert result.content[0].text == "Wednesday 2026-11-25, 12:00 UTC"
    assert names == ["current_date", "calculate"]


async def test_the_demo_starts_its_tools_over_stdio_without_configuration(tmp_path):
    config = demo_config(AppConfig(mcp_servers=()), "http://127.0.0.1:9", str(tmp_path))
    assert [server.name for server in config.mcp_servers] == ["demo"]
    host = McpHost(config.mcp_servers, ToolSettings(start_timeout=30))
    try:
        await host.wait_started()
        assert [tool.name for tool in host.available()] == ["current_date", "calculate"]
        assert (await host.call("calculate", {"expression": "17 * 23 + 4"})).text == "395"
        refused = await host.call("calculate", {"expression": "open('/etc/passwd').read()"})
        assert refused.is_error and "only numbers" in refused.text
    finally:
        await host.aclose()
