"""Tools the agents call through the dispatcher."""
