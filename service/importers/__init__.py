"""Importers: bring an existing blog (WordPress) or a subscriber list into Margins.

They sit above publishing, comments and the newsletter: one import creates rows of all three."""
