"""Importers: taxonomies, clip lists, media folders and proposal sets into the annotator tables.

Each module holds one importer as a service; management commands import_* are thin wrappers.
"""
