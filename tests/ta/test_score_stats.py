"""Statistics and the server-side histogram of the TA dashboard."""
import xml.etree.ElementTree as ET

import pytest

from app.score_stats import Summary, histogram, histogram_svg

SVG = "{http://www.w3.org/2000/svg}"


def test_summary():
    s = Summary.of([2, 8, 5, 5])
    assert (s.count, s.mean, s.median, s.max) == (4, 5.0, 5.0, 8)
    assert Summary.of([]) == Summary(0, None, None, None)


def test_histogram_bins_cover_zero_to_max_and_full_marks_land_in_the_last_bin():
    bins = histogram([0, 0, 3.9, 4, 8, 8, 8], 8, bins=4)
    assert [b.count for b in bins] == [2, 1, 1, 3]  # [0,2) [2,4) [4,6) [6,8]
    assert bins[0].low == 0 and bins[-1].high == 8
    assert sum(b.count for b in histogram([1.5, 0.75, 0], 1.5)) == 3


def test_svg_is_well_formed_with_one_bar_per_bin_heights_proportional():
    svg = histogram_svg([0, 8, 8, 8, 4], 8, "ex1a.tau <&>", bins=4)
    root = ET.fromstring(svg)  # the label is escaped, the document parses
    bars = root.findall(f"{SVG}rect")
    assert [int(b.get("data-count")) for b in bars] == [1, 0, 1, 3]
    heights = [float(b.get("height")) for b in bars]
    assert heights[3] > heights[0] > heights[1] == 0
    assert heights[0] * 3 == pytest.approx(heights[3], abs=0.2)
    assert "ex1a.tau <&>" in root.find(f"{SVG}title").text


def test_svg_of_no_values_still_renders():
    root = ET.fromstring(histogram_svg([], 5, "empty"))
    assert all(float(b.get("height")) == 0 for b in root.findall(f"{SVG}rect"))
