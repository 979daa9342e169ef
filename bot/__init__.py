"""The SMS customer-service assistant's own package: settings, data layer, NLU parts, CLI."""
