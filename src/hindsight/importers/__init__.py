"""Importers: one folder per external format, all behind `base.Importer`, listed in `registry`."""
