"""Rasa extensions: tracker and lock stores, NLU components, patches installed at start-up."""
