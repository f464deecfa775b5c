"""Feeds: fetching them safely, parsing them, and the list of feeds the bot polls."""
