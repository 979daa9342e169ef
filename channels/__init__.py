"""Rasa channel connectors (one provider per module)."""
