"""Stage 1, the lesson: vocabulary, settings, the knowledge base on disk, reading, the schema, the rules, check, stats.

No numpy and no model here: `lessons check` and everything above it can use this package cheaply."""
