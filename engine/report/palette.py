"""The report's colours: one home for every series colour, and the CSS that carries them.

- Categorical series (channels, roll rates, DSO lines) take the Okabe-Ito colours, ordered
  so that neighbours differ most for every kind of colour vision (the test measures
  CIEDE2000 under simulated protanopia, deuteranopia and tritanopia): `s0` … `s7`.
- Ordered series (aging buckets, current to oldest) take steps of a light-to-dark viridis
  scale at evenly spaced lightness, as many as the policy has buckets, so adjacent buckets
  stay apart for every reader and darker means older: `q0` … `qN`.
"""
from __future__ import annotations

# Okabe & Ito (2008), the brown of the previous palette for the 8th; the order is the test's.
CATEGORICAL = ("#0072b2", "#e69f00", "#8c6d1f", "#56b4e9", "#d55e00", "#009e73", "#000000", "#cc79a7")
# viridis at 8 even steps (matplotlib), light to dark.
VIRIDIS = ("#fde725", "#a0da39", "#4ac16d", "#1fa187", "#277f8e", "#365c8d", "#46327e", "#440154")
_WHITE = (0.95047, 1.0, 1.08883)


def categorical(k: int) -> str:
    """The CSS class of the k-th categorical series."""
    return f"s{k % len(CATEGORICAL)}"


def sequential(n: int) -> list[str]:
    """`n` colours from light to dark along the viridis scale, at evenly spaced lightness
    (CIELAB L*): lightness is what every kind of colour vision keeps, so equal steps of it
    keep adjacent buckets apart for all readers, and darker always means older."""
    labs = [_lab(h) for h in VIRIDIS]
    top, bottom = labs[0][0], labs[-1][0]
    out = []
    for i in range(n):
        level = top + (bottom - top) * (i / (n - 1) if n > 1 else 0.5)
        k = 0
        while k < len(labs) - 2 and level < labs[k + 1][0]:
            k += 1
        t = (labs[k][0] - level) / (labs[k][0] - labs[k + 1][0])
        out.append(_hex(tuple(a + (b - a) * t for a, b in zip(labs[k], labs[k + 1]))))
    return out


def css(buckets: int) -> str:
    """The CSS rules of the series classes (`s0`…, and `q0`… for `buckets` ordered ones)."""
    rules = [f".{categorical(k)} {{ --c: {c}; }}" for k, c in enumerate(CATEGORICAL)]
    rules += [f".q{k} {{ --c: {c}; }}" for k, c in enumerate(sequential(max(buckets, 1)))]
    return "\n".join(rules)


def _lin(c: float) -> float:
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def _gamma(c: float) -> float:
    c = min(max(c, 0.0), 1.0)
    return 12.92 * c if c <= 0.0031308 else 1.055 * c ** (1 / 2.4) - 0.055


def _lab(hexa: str) -> tuple[float, float, float]:
    r, g, b = (_lin(int(hexa[i:i + 2], 16) / 255) for i in (1, 3, 5))
    xyz = (0.4124564 * r + 0.3575761 * g + 0.1804375 * b, 0.2126729 * r + 0.7151522 * g + 0.0721750 * b,
           0.0193339 * r + 0.1191920 * g + 0.9503041 * b)
    fx, fy, fz = (t ** (1 / 3) if t > 216 / 24389 else (24389 / 27 * t + 16) / 116
                  for t in (v / w for v, w in zip(xyz, _WHITE)))
    return 116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)


def _hex(lab: tuple[float, float, float]) -> str:
    L, a, b = lab
    fy = (L + 16) / 116
    fx, fz = fy + a / 500, fy - b / 200
    x, y, z = (w * (f ** 3 if f ** 3 > 216 / 24389 else (116 * f - 16) / (24389 / 27))
               for f, w in zip((fx, fy, fz), _WHITE))
    rgb = (3.2404542 * x - 1.5371385 * y - 0.4985314 * z, -0.9692660 * x + 1.8760108 * y + 0.0415560 * z,
           0.0556434 * x - 0.2040259 * y + 1.0572252 * z)
    return "#" + "".join(f"{round(_gamma(c) * 255):02x}" for c in rgb)
