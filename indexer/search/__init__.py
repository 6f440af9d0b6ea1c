"""Stage 2, the answers: passages, BM25, the embedding model, the index on disk and its building, the search
session, ranking, similar lessons and evaluation. Imports `core` only."""
