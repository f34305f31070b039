"""Agents, their registry and the factory engines get them from."""
