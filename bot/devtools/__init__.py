"""Developer tools for tests and benchmarks; nothing here runs in production.

Modules are imported explicitly (`bot.devtools.botapi_emulator`), so that `python -m` can run
them without the package importing them first.
"""
