"""Provider adapters: one module per provider, plus the sandbox that emulates them."""
