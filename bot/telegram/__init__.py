"""The python-telegram-bot layer: composition root, handlers, transports.

Services never import this package.
"""
