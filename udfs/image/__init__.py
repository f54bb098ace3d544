"""Built-in image metrics, one per module: each a function of a decoded `Image`."""
