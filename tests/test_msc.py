"""The appearance encoder's training crops: the lite encoder's colour augmentation (aivad.training.msc)."""

import numpy as np

from aivad.training.msc import FULL_COLOUR, LITE_COLOUR, CropPairs, colour_augmentation


def red_crops(count: int = 40) -> np.ndarray:
    crops = np.zeros((count, 32, 32, 3), dtype=np.uint8)
    crops[..., 0] = 200  # RGB: a saturated red, like a red jacket
    crops[..., 1:] = 30
    return crops


def dominant_channels(pairs: CropPairs) -> list[int]:
    """The strongest colour channel of each augmented view (greyscale views left out: no channel dominates)."""
    out = []
    for index in range(len(pairs.crops)):
        for view in pairs[(index, 0)]:
            means = view.mean(dim=(1, 2))
            if float(means.max() - means.min()) > 0.05:
                out.append(int(means.argmax()))
    return out


def test_lite_crops_change_hue_so_clothing_colour_cannot_tell_crops_apart():
    # With the full backend's little hue jitter a red crop stays red; with the lite encoder's it turns
    # green or blue in some views, so two people are no longer told apart by the colour of their clothes.
    full = dominant_channels(CropPairs(red_crops(), seed=3, colour=FULL_COLOUR))
    lite = dominant_channels(CropPairs(red_crops(), seed=3, colour=LITE_COLOUR))
    assert full and set(full) == {0}
    assert lite and {1, 2} & set(lite)


def test_lite_crops_are_grey_more_often():
    def grey_views(colour) -> int:
        pairs = CropPairs(red_crops(100), seed=5, colour=colour)
        return sum(
            float(view.std(dim=0).max()) < 1e-6 for index in range(len(pairs.crops)) for view in pairs[(index, 0)]
        )

    full, lite = grey_views(FULL_COLOUR), grey_views(LITE_COLOUR)
    assert 15 <= full <= 70  # about 20% of 200 views
    assert lite >= 70  # about 50%
    assert lite > full


def test_each_backend_trains_with_its_own_colour_augmentation():
    assert colour_augmentation("lite") == LITE_COLOUR
    assert colour_augmentation("full") == FULL_COLOUR
    assert LITE_COLOUR != FULL_COLOUR


def test_lite_training_augments_its_crops_with_the_lite_colour(tmp_path, lite_training_videos, monkeypatch):
    from helpers import LITE_FAST, train

    import aivad.training.msc as msc

    seen = []

    class RecordingCropPairs(msc.CropPairs):
        def __init__(self, crops, seed=0, *, colour):
            seen.append(colour)
            super().__init__(crops, seed, colour=colour)

    monkeypatch.setattr(msc, "CropPairs", RecordingCropPairs)
    args = ["--videos", str(lite_training_videos[0]), "--epochs", "1", "--max-frames-per-video", "20", *LITE_FAST]
    assert train("from_scratch", [*args, "--output", str(tmp_path / "lite.ckpt")]) == 0
    assert seen == [LITE_COLOUR]
