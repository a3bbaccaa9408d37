"""Learned change detection: a compact siamese network, its data, training and inference."""
