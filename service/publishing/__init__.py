"""Issues: writing drafts, scheduling and publishing, the public queries, related issues."""
