"""The baseline components, each a plugin module registered like any other."""
