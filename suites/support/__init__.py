"""The seed's section 8 test utilities, made real.

Import scanning, contamination checks, event monitors, logged-in users, the staging client.
"""
