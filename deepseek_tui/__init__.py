"""deepseek-tui: a keyboard-driven terminal chat app for the DeepSeek API."""

__version__ = "0.1.0"
