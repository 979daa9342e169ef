"""Custom actions (rasa_sdk registers every Action subclass found in this package)."""
