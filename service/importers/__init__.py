"""Importers: bring an existing blog or list into Margins."""
