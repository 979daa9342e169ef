"""Tools for bot designers: data checks, the FAQ answers file, the bot's test report."""
