"""Entry point: a thin MkDocs plugin that calls the project's page generator (`indexer.web`) before MkDocs reads the docs."""
