"""The files `lessons init` copies into a new knowledge base (package data under files/, no code).

Names starting with `dot-` become hidden names (`dot-github` -> `.github`): setuptools' globs skip hidden
files. Most files are this repository's own, kept equal by tests/quick/test_init.py; `scripts/sync-starter`
copies them here after they change."""
