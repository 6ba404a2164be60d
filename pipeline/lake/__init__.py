"""The lake as the pipeline sees it: contiguity from the opening date, and which days changed since the last build."""
