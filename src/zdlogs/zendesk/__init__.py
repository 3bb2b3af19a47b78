"""Talking to Zendesk: the client (auth, same-origin links, retries, pacing) and its pagination rules.

Each module is imported where it is used; this package face defines nothing, so importing one of them
does not load the others.
"""
