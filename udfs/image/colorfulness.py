"""colorfulness: Hasler and Süsstrunk's colourfulness (2003)."""

import math

import cv2

from ..pixels import mean_var
from ..registry import image_metric


@image_metric(version=3, unit="≥ 0; ~15 slightly, ~60 quite, > 100 extremely colourful")
def colorfulness(image):
    """Hasler–Süsstrunk colourfulness: σ_rgyb + 0.3·μ_rgyb of rg = R − G and yb = (R + G)/2 − B, at colour resolution (2×2 averages)."""
    b, g, r = image.half.channels
    m_rg, v_rg = mean_var(cv2.subtract(r, g, dtype=cv2.CV_16S))
    # 2·yb = R + G − 2B, exact in int16
    m_yb2, v_yb2 = mean_var(cv2.subtract(cv2.add(r, g, dtype=cv2.CV_16S), cv2.add(b, b, dtype=cv2.CV_16S)))
    return math.sqrt(v_rg + v_yb2 / 4) + 0.3 * math.hypot(m_rg, m_yb2 / 2)
