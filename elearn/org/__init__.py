"""Organisation: the administration's offices (Ämter) as a tree."""
