"""Storage: episodes and their versions, billing runs, claims and the billed-day ledger."""
