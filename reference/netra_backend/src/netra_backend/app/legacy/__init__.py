"""The deprecated implementation, kept working, bugs included, until the migration ends.

Nothing here is imported while every component is migrated: the SSOT code
imports these modules lazily, only when the state in effect needs them.
"""
