"""The LLM interface the agents answer through."""
