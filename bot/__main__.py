import gc

# Start-up builds many long-lived objects (modules, classes, tables). The cycle collector
# finds nothing to free among them, yet walking them costs a third of a one-shot command's
# time: during imports, and again in the collection the interpreter runs at exit. So it is
# off while starting, commands that keep running turn it back on (bot.cli.steady_state), and
# what exists at exit is frozen so the final collection skips it.
gc.disable()

from bot.cli import main  # noqa: E402

try:
    status = main()
finally:
    gc.freeze()
raise SystemExit(status)
