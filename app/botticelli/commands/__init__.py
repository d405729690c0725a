"""CLI sub-commands: one module each, registered by `botticelli.cli`."""
