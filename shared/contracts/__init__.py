"""The wire contract between places: versioned event schemas and the CloudEvents envelope.

Receivers depend on these schemas only, never on the sender's internal event classes.
"""
