"""The progress line of the image_mirror action plugin carries each image's returned ``seconds`` as the module
rounds it (to 0.001 s), including 0.0 for a copy too small or fast to measure."""
import re

import pytest

from ansible_collections.onprem.stack.plugins.action.image_mirror import human_seconds, progress_line
from ansible_collections.onprem.stack.plugins.modules import image_mirror


@pytest.mark.parametrize("seconds, printed", [
    (0.0, "0.0"), (0, "0.0"), (0.001, "0.001"), (0.012, "0.012"), (0.1, "0.1"), (14.8, "14.8"),
    (14.812, "14.812"), (41, "41.0"), (3600.25, "3600.25"),
])
def test_human_seconds(seconds, printed):
    assert human_seconds(seconds) == printed
    assert float(printed) == seconds


def test_seconds_since_rounds_to_the_millisecond(monkeypatch):
    monkeypatch.setattr(image_mirror.time, "monotonic", lambda: 100.0123456)
    assert image_mirror._seconds_since(100.0) == 0.012  # pylint: disable=protected-access
    assert image_mirror._seconds_since(100.0123) == 0.0  # pylint: disable=protected-access


def test_progress_line_carries_each_returned_figure():
    batch = [{"ref": "docker.io/library/a:1", "bytes": 2048, "seconds": 0.0},
             {"ref": "docker.io/library/b:1", "bytes": 3 << 20, "seconds": 0.037},
             {"ref": "docker.io/library/c:1", "bytes": 0, "seconds": 14.8}]
    line = progress_line("h1", 3, 7, "pulled into", "/srv/images", 5 << 20, 41.04, batch)
    head, *images = line.split("\n")
    assert head == "image_mirror [h1]: 3/7 images pulled into /srv/images (5.0 MiB, 41.0 s so far):"
    assert images == ["  docker.io/library/a:1 (2.0 KiB, 0.0 s)", "  docker.io/library/b:1 (3.0 MiB, 0.037 s)",
                      "  docker.io/library/c:1 (0 B, 14.8 s)"]
    for text, entry in zip(images, batch):
        assert float(re.fullmatch(r"  \S+ \(.+, ([0-9]+\.[0-9]+) s\)", text).group(1)) == entry["seconds"]
