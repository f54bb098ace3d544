"""Built-in label metrics, one per module: each a function of a decoded `Image` and its `Boxes`."""
