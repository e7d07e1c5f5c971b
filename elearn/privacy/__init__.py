"""Data protection: retention of what is no longer needed."""
