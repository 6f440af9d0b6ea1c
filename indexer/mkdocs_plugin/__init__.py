"""A thin MkDocs plugin: it only calls the project's page generator (indexer.site) before MkDocs reads the docs."""
