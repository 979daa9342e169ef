"""The SMS customer-service assistant: settings and CLI here; store, text, sms, desk, rasa_ext."""
