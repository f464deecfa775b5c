"""News found in feeds: which articles concern the bot's topics, and their review by editors."""
