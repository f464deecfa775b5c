"""Feeds: safe addresses, fetching and parsing, the list the bot watches, and polling it."""
