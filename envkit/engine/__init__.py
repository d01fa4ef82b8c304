"""The conda engine of envkit: solving, installing, locks (``rattler_engine`` is the only module importing rattler)."""
