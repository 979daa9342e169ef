"""The outbound service: every text the business starts (consent, quiet hours, outbox)."""
