"""A run on disk: its folder and lock, the signals that stop it, its checkpoint and the
resume policy, its record and pictures, renders, and the studies' rows (docs/runs.md)."""
