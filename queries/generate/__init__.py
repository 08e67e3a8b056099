"""The synthetic full-element pool: deterministic from a seed, realistic rhythms, recorded defects."""
