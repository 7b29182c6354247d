"""Reply handling: the agent kinds that answer contacts."""
