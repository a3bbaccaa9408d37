"""The change-mask clean-up written with shifted boolean operations gives exactly what
SciPy's morphology gives (it replaced it for speed, issue 13)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from sitewatch.changemap import clean_mask


def scipy_clean_mask(mask: np.ndarray, min_px: int, opening_px: int) -> np.ndarray:
    st = ndimage.generate_binary_structure(2, 1)
    out = mask
    if opening_px > 0:
        out = ndimage.binary_opening(out, structure=st, iterations=opening_px)
        out = ndimage.binary_closing(out, structure=st, iterations=opening_px)
    out = ndimage.binary_fill_holes(out)
    labels, n = ndimage.label(out, structure=st)
    if n == 0:
        return out
    keep = np.bincount(labels.ravel()) >= min_px
    keep[0] = False
    return keep[labels]


@pytest.mark.parametrize("seed", range(6))
def test_clean_mask_equals_scipy_morphology(seed: int) -> None:
    rng = np.random.default_rng(seed)
    for _ in range(40):
        h, w = (int(v) for v in rng.integers(1, 48, 2))
        if rng.random() < 0.5:
            mask = rng.random((h, w)) < rng.uniform(0.1, 0.9)
        else:  # blobs with holes, touching the edges
            mask = ndimage.binary_dilation(rng.random((h, w)) < 0.04, iterations=3)
            mask &= ~(rng.random((h, w)) < 0.1)
        for opening in (0, 1, 2):
            for min_px in (1, 4, 20):
                np.testing.assert_array_equal(clean_mask(mask, min_px, opening),
                                              scipy_clean_mask(mask, min_px, opening))


def test_clean_mask_on_a_real_change_mask(samples) -> None:  # type: ignore[no-untyped-def]
    import rasterio

    with rasterio.open(samples / "dsifn-cd" / "label" / "0_2.png") as ds:
        mask = ds.read(1) > 127
    assert mask.any() and not mask.all()
    for opening in (0, 1):
        got = clean_mask(mask, 20, opening)
        np.testing.assert_array_equal(got, scipy_clean_mask(mask, 20, opening))
        assert got.dtype == bool and got.shape == mask.shape


def test_clean_mask_refuses_a_stack() -> None:
    with pytest.raises(ValueError, match=r"\(h, w\)"):
        clean_mask(np.zeros((2, 5, 5), bool), 1)


@pytest.mark.parametrize("holes", [False, True])
@pytest.mark.parametrize("rows", [90, 700])
def test_cva_magnitude_in_blocks_equals_the_whole_stack(holes: bool, rows: int) -> None:
    """The change magnitude, computed in blocks of rows on threads (several blocks at 700
    rows, with holes across their seams), is the root mean square of the normalised
    differences smoothed by a normalised convolution (over valid pixels only), computed
    on whole stacks with SciPy."""
    from sitewatch.detect.classical import _coefficients, change_magnitude

    rng = np.random.default_rng(3)
    before = rng.normal(size=(4, rows, 120)).astype(np.float32)
    after = (before * 1.3 + 0.2 + rng.normal(scale=0.3, size=before.shape)).astype(np.float32)
    valid = np.ones((rows, 120), bool)
    if holes:
        valid[10:30, 40:70] = False
        valid[250:262, :] = False  # across the first seam of 256-row blocks
        valid[rows - 3:, 100:] = False
        before[:, ~valid] = np.nan
    mb, sb, ma, sa, slope, intercept = _coefficients(before, after, valid, 0.5)
    diff = np.stack([slope[i] * (after[i] - ma[i]) / sa[i] + intercept[i]
                     - (before[i] - mb[i]) / sb[i] for i in range(4)]).astype(np.float32)
    w = ndimage.gaussian_filter(valid.astype(np.float32), 2.0)
    smooth = np.stack([ndimage.gaussian_filter(np.where(valid, d, 0).astype(np.float32), 2.0)
                       / (w if holes else 1.0) for d in diff])
    want = np.sqrt((smooth ** 2).mean(axis=0))
    got = change_magnitude(before, after, valid, 0.5, 2.0)
    assert got.dtype == np.float32 and got.shape == valid.shape
    np.testing.assert_allclose(got[valid], want[valid], rtol=1e-5, atol=1e-5)


def test_clean_mask_of_an_empty_mask_is_empty() -> None:
    for shape in ((0, 5), (4, 0), (0, 0)):
        got = clean_mask(np.zeros(shape, bool), 3)
        assert got.shape == shape and got.dtype == bool


@pytest.mark.parametrize("seed", range(6))
def test_cva_shortcuts_give_the_values_of_the_plain_formulas(
        seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """OpenCV's Gaussian is SciPy's to float32 rounding (edges, corners, odd sizes and
    sigmas); the fit's sample taken block by block and Otsu's threshold from a histogram
    counted in place are bit-identical to the plain formulas (every k-th of all valid
    positions, scikit-image on a copy of the finite values)."""
    from skimage.filters import threshold_otsu

    import sitewatch.detect.classical as cva

    rng = np.random.default_rng(seed)
    h, w = (int(v) for v in rng.integers(40, 1300, 2))
    valid = np.ones((h, w), bool)
    valid[rng.random((h, w)) < 0.002] = False
    valid[: h // 6, : w // 4] = False  # a corner outside the AOI
    valid[:, min(w - 1, 511)] = False  # a seam of the 512 px tiles
    sigma = (0.7, 1.0, 2.0, 2.0, 3.3, 5.0)[seed]
    weights = valid.astype(np.float32)
    np.testing.assert_allclose(cva.gaussian(weights, sigma),
                               ndimage.gaussian_filter(weights, sigma), rtol=0, atol=1e-6)
    noise = rng.normal(size=(h, w)).astype(np.float32)
    want = ndimage.gaussian_filter(noise, sigma)
    np.testing.assert_allclose(cva.gaussian(noise, sigma), want, rtol=0, atol=2e-6)
    cva.gaussian(noise, sigma, out=noise)  # in place: the same values
    np.testing.assert_allclose(noise, want, rtol=0, atol=2e-6)
    monkeypatch.setattr(cva, "FIT_SAMPLE", 5000)
    monkeypatch.setattr(cva, "_SAMPLE_BLOCK", int(rng.integers(100, 70_000)))
    every = np.flatnonzero(valid)
    np.testing.assert_array_equal(cva._sample(valid), every[::max(1, every.size // 5000)])

    image = rng.gamma(1.5, 2.0, size=(h, w)).astype(np.float32)
    image[~valid] = np.nan
    finite = image[np.isfinite(image)]
    assert cva.otsu_of_finite(image) == float(threshold_otsu(finite))
    image[0, -1] = np.inf  # an overflowed magnitude is left out
    assert cva.otsu_of_finite(image) == float(threshold_otsu(image[np.isfinite(image)]))
    assert cva.otsu_of_finite(np.full((4, 4), np.nan, np.float32)) == np.inf
    assert cva.otsu_of_finite(np.full((4, 4), 2.5, np.float32)) == 2.5


@pytest.mark.parametrize("kind", ["uint8", "float"])
def test_normalise_pair_in_blocks_equals_the_plain_formula(kind: str) -> None:
    """The model's inputs, scaled a block of rows per thread: the values of
    clip(nan_to_num((x - lo) / span), 0, 1) over the whole images, NaN and inf included."""
    from sitewatch.learn import infer

    rng = np.random.default_rng(7)
    shape = (3, 700, 90)  # several blocks of rows
    if kind == "uint8":
        a = rng.integers(0, 256, shape).astype(np.float32)
        b = rng.integers(0, 256, shape).astype(np.float32)
        lo, span = 0.0, 255.0
    else:
        a = rng.normal(800, 300, shape).astype(np.float32)
        b = rng.normal(900, 300, shape).astype(np.float32)
        a[0, 300:310] = np.nan
        b[2, 5, 5] = np.inf
        a[1, 650, 3] = -np.inf
        both = np.concatenate([a.ravel(), b.ravel()])
        lo, hi = (float(v) for v in np.percentile(both[np.isfinite(both)], [2, 98]))
        span = hi - lo
    na, nb = infer.normalise_pair(a, b)
    for x, n in ((a, na), (b, nb)):
        with np.errstate(invalid="ignore"):
            plain = np.clip(np.nan_to_num((x - np.float32(lo)) / np.float32(span), nan=0.0,
                                          posinf=np.inf, neginf=-np.inf), 0, 1)
        assert n.dtype == np.float32 and n.shape == x.shape
        np.testing.assert_allclose(n, plain, rtol=0, atol=1e-6)
    assert not np.isnan(na).any() and not np.isnan(nb).any()
    if kind == "float":
        assert na[0, 300:310].max() == 0  # NaN in, 0 out
