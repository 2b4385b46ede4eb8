"""Evaluation: the feature network, feature extraction, and the metrics' math."""
