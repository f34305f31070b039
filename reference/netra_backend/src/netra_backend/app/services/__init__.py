"""Services: user contexts, chat, and a legacy engine import path."""
