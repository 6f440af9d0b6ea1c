"""Stage 3, contributions: new lessons from the template, the GitHub issue form, and pull-request review."""
