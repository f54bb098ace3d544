"""colorfulness: Hasler and Süsstrunk's colourfulness (2003)."""

import math

from ..registry import image_metric
from ..stats import colour


@image_metric(version=3, unit="≥ 0; ~15 slightly, ~60 quite, > 100 extremely colourful")
def colorfulness(image):
    """Hasler–Süsstrunk colourfulness: σ_rgyb + 0.3·μ_rgyb of rg = R − G and yb = (R + G)/2 − B, at colour resolution (2×2 averages)."""
    c = colour(image)
    n, (b, g, r), (rg2, rb2, gb2) = c.count, c.sums, c.squares
    m_rg, m_yb2 = (r - g) / n, (r + g - 2 * b) / n  # 2·yb = (R − B) + (G − B), so
    yb2_2 = 2 * rb2 + 2 * gb2 - rg2  # Σ (2·yb)² = 2 Σ (R − B)² + 2 Σ (G − B)² − Σ (R − G)²
    v_rg, v_yb2 = max(rg2 / n - m_rg * m_rg, 0.0), max(yb2_2 / n - m_yb2 * m_yb2, 0.0)
    return math.sqrt(v_rg + v_yb2 / 4) + 0.3 * math.hypot(m_rg, m_yb2 / 2)
