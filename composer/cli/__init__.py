"""The command-line interface: presentation only; the work is done by composer.spec/engine/network."""
