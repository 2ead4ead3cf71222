"""Preset configurations shipped with pimsim (YAML files, read as package data)."""
