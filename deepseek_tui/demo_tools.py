"""A small MCP server for `deepseek-tui --demo`: the date, and a calculator.

Run as `python -m deepseek_tui.demo_tools` (stdio); the demo starts it by itself, so a newcomer
sees a tool call without configuring anything. Written with the official `mcp` SDK.

- `current_date`: today's date, weekday and UTC time, from `deepseek_tui.clock` (`--now` pins it);
- `calculate`: evaluates arithmetic (+ - * / // % **, parentheses, decimals) by walking the
  parsed expression: no `eval`, no names, no calls, bounded powers and sizes.
"""

from __future__ import annotations

import argparse
import ast
import operator
from collections.abc import Callable
from datetime import datetime

from deepseek_tui import clock

MAX_EXPRESSION = 200
MAX_EXPONENT = 1_000
MAX_DIGITS = 400

_BINARY: dict[type[ast.operator], Callable[[float, float], float]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_UNARY: dict[type[ast.unaryop], Callable[[float], float]] = {ast.UAdd: operator.pos, ast.USub: operator.neg}


class CalculationError(ValueError):
    """An expression the calculator does not take; the message says why."""


def calculate(expression: str) -> str:
    """The value of an arithmetic expression, as text."""
    if len(expression) > MAX_EXPRESSION:
        raise CalculationError(f"the expression is longer than {MAX_EXPRESSION} characters")
    text = expression.replace("×", "*").replace("÷", "/").replace("^", "**").strip()
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError:
        raise CalculationError(f"not an arithmetic expression: {expression!r}") from None
    value = _value(tree.body)
    if isinstance(value, float):
        return f"{value:.12g}"
    return str(value)


def _value(node: ast.AST) -> int | float:
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
        return node.value
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
        return _UNARY[type(node.op)](_value(node.operand))
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        left, right = _value(node.left), _value(node.right)
        if isinstance(node.op, ast.Pow) and abs(right) > MAX_EXPONENT:
            raise CalculationError(f"exponents above {MAX_EXPONENT} are not calculated")
        try:
            result = _BINARY[type(node.op)](left, right)
        except ZeroDivisionError:
            raise CalculationError("division by zero") from None
        except OverflowError:
            raise CalculationError("the result is too large") from None
        if isinstance(result, complex):
            raise CalculationError("the result is not a real number")
        if isinstance(result, int) and abs(result).bit_length() > MAX_DIGITS * 3.33:  # log2(10) bits a digit
            raise CalculationError(f"the result has more than {MAX_DIGITS} digits")
        return result
    raise CalculationError("only numbers, + - * / // % ** and parentheses are allowed")


def describe_date(moment: datetime) -> str:
    return f"{moment:%A %Y-%m-%d}, {moment:%H:%M} UTC"


def build_server(now: datetime | None = None):
    from mcp.server.mcpserver import MCPServer
    from mcp.server.mcpserver.exceptions import ToolError

    server = MCPServer("demo", log_level="CRITICAL")

    @server.tool()
    def current_date() -> str:
        """Today's date, weekday and the time (UTC)."""
        return describe_date(now or clock.now())

    @server.tool(name="calculate")
    def calculate_tool(expression: str) -> str:
        """Evaluate an arithmetic expression, e.g. "17 * 23 + 4" (+ - * / // % **, parentheses)."""
        try:
            return calculate(expression)
        except CalculationError as exc:
            raise ToolError(str(exc)) from None

    return server


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m deepseek_tui.demo_tools",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--now", metavar="ISO", help="answer current_date with this moment (tests)")
    arguments = parser.parse_args()
    now = datetime.fromisoformat(arguments.now) if arguments.now else None
    build_server(now).run("stdio")


if __name__ == "__main__":
    main()
