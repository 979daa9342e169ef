"""The data layer: engine and sessions, models, Alembic migrations, and the queries on them.

Used by `bot.sms`, `bot.desk`, the actions and the channel; it imports none of them.
"""
