"""Development tools for tests and benchmarks, kept out of the wheel and the Docker image.

`devtools.botapi` is an in-memory Telegram Bot API the real bot runs against. Tests import it
in-process; benchmarks start it with `python -m devtools.botapi` from the repository root.
"""
