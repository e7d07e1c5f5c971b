"""Demo data: a realistic German city administration to try the platform with."""
