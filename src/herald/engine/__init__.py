"""Workers: claim due journeys in batches, send, apply transitions, run timers."""
