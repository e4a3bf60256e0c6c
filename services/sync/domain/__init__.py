"""The exchange's own domain: reconciliation of two-way assessments and membership state."""
