from qmdb.udfs import image_metric


@image_metric(version=1, type="DOUBLE", unit="0..1")
def dark_share(image) -> float:
    """Share of the pixels whose grey level is below 32 (of 255)."""
    histogram = image.gray_histogram
    return float(histogram[:32].sum() / histogram.sum())
