"""The conda engine of envkit: solving, installing, cache integrity, locks (rattler is imported lazily, inside functions)."""
