"""A local, Plivo-compatible stand-in for the Message API, webhooks and an SMS simulator.

Modules: server (create_app), runner (StandIn), sdk (point_sdk_at, make_client),
signing (sign_request), simulator (the web SMS simulator page).
"""
