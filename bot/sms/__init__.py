"""The SMS path: Plivo webhooks, the inbound queue, conversations, the outbox and its sender."""
