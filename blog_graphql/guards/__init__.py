"""Guards every operation passes before it runs: limits, budgets, hostile values."""
