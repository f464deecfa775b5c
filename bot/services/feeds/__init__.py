"""Feed input: safe addresses, fetching and parsing of the feeds the news monitor watches."""
