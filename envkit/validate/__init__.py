"""``envkit validate``: ``evidence`` reads the stack an environment file implies, ``rules_*`` judge it
by topic (stack, host, hygiene), ``report`` runs them and builds the report."""
