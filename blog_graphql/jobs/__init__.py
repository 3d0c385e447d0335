"""Background jobs: the Dramatiq broker chosen from settings, and the workers that run actors."""
