"""Stage 3, the website: the page generator (pages, HTML fragments, charts, feed) and the engine build. It gets
related lessons as data from its caller and never opens the index itself."""
