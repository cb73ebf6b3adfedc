"""Density estimators: the anomalib 2.7 bugs this project fixes, each shown against anomalib itself."""

import pytest
import torch

from aivad.model.density import GmmDensity, KnnDensity, coreset_indices


def test_anomalib_single_video_knn_raises_and_ours_fits():
    from anomalib.models.video.ai_vad.density import GroupedKNNEstimator

    features = torch.randn(40, 8)
    theirs = GroupedKNNEstimator(n_neighbors=1)
    theirs.update(features, group="only_video.mp4")
    with pytest.raises((IndexError, RuntimeError)):
        theirs.fit()

    ours = KnnDensity(n_neighbors=1)
    train_scores = ours.fit(features, torch.zeros(40, dtype=torch.long))
    assert torch.isfinite(train_scores).all() and (train_scores > 0).all()
    assert torch.isfinite(ours.score(torch.randn(5, 8))).all()


def test_normalisation_maximum_uses_every_group_not_the_last():
    from anomalib.models.video.ai_vad.density import GroupedKNNEstimator

    torch.manual_seed(0)
    spread_out = torch.randn(30, 4) * 5.0  # large leave-one-out distances
    tight = torch.randn(30, 4) * 0.1  # small ones, and it comes last
    theirs = GroupedKNNEstimator(n_neighbors=1)
    theirs.update(spread_out, group="a")
    theirs.update(tight, group="b")
    theirs.fit()
    ours = KnnDensity(n_neighbors=1)
    raw = ours.fit(torch.cat([spread_out, tight]), torch.tensor([0] * 30 + [1] * 30), percentile=100.0)
    assert float(ours.high) == pytest.approx(float(raw.max()))
    # anomalib's maximum ignores group "a", whose distances are the largest
    assert float(theirs.max) < float(raw.max())


def test_knn_bank_is_bounded_by_coreset_and_keeps_the_extremes():
    torch.manual_seed(1)
    features = torch.cat([torch.randn(5000, 16), torch.full((1, 16), 40.0)])
    density = KnnDensity(max_bank=256)
    density.fit(features, torch.arange(len(features)) // 100)
    assert density.bank.shape == (256, 16)
    # k-centre selection keeps the far-away point: it is its own nearest neighbour
    assert (density.bank == 40.0).all(dim=1).any()


def test_coreset_returns_all_rows_when_small():
    assert coreset_indices(torch.randn(10, 3), 50).tolist() == list(range(10))


def test_coreset_refuses_an_empty_bank():
    # greedy k-centre starts from one row: size 0 used to keep one row without a word
    with pytest.raises(ValueError, match="at least 1"):
        coreset_indices(torch.randn(10, 3), 0)


def test_knn_honours_n_neighbors():
    bank = torch.tensor([[0.0], [1.0], [10.0]])
    one, two = KnnDensity(n_neighbors=1), KnnDensity(n_neighbors=2)
    for density in (one, two):
        density.bank, density.bank_groups = bank, torch.arange(3)
    query = torch.tensor([[0.0]])
    assert float(one.raw_scores(query)) == pytest.approx(0.0)
    assert float(two.raw_scores(query)) == pytest.approx(0.5)


def test_gmm_scores_outliers_higher_and_survives_degenerate_features():
    torch.manual_seed(2)
    normal = torch.randn(400, 8).abs() * 0.5
    normal[:, 5:] = 0.0  # bins that never move: a singular covariance without regularisation
    gmm = GmmDensity(n_components=3)
    gmm.fit(normal)
    inlier, outlier = gmm.score(normal[:5]), gmm.score(torch.full((5, 8), 6.0))
    assert (outlier > inlier.max()).all()


def test_density_state_round_trips_through_state_dict():
    knn, gmm = KnnDensity(max_bank=32), GmmDensity(n_components=2)
    data = torch.randn(100, 4)
    knn.fit(data, torch.arange(100) // 10)
    gmm.fit(data)
    knn2, gmm2 = KnnDensity(max_bank=32), GmmDensity(n_components=2)
    knn2.load_state_dict(knn.state_dict())
    gmm2.load_state_dict(gmm.state_dict())
    query = torch.randn(7, 4)
    assert torch.allclose(knn.score(query), knn2.score(query))
    assert torch.allclose(gmm.score(query), gmm2.score(query))


def test_knn_scores_equal_cdist_to_the_bit_and_follow_a_new_bank():
    """The bank extended once for all frames gives torch.cdist's distances exactly, and never a stale bank's."""
    from aivad.model.density import CDIST_MM_ROWS

    gen = torch.Generator().manual_seed(0)
    train = torch.randn(300, 24, generator=gen)
    queries = torch.randn(7, 24, generator=gen)
    density = KnnDensity(n_neighbors=2)
    density.fit_estimator(train)
    expected = torch.cdist(queries, density.bank).topk(2, largest=False, dim=1).values.mean(dim=1)
    assert torch.equal(density.raw_scores(queries), expected)
    assert torch.equal(density.raw_scores(queries), expected)  # from the kept extension
    density.bank.mul_(2.0)  # changed in place (as a state dict load does)
    doubled = torch.cdist(queries, density.bank).topk(2, largest=False, dim=1).values.mean(dim=1)
    assert not torch.equal(doubled, expected)
    assert torch.equal(density.raw_scores(queries), doubled)
    density.fit_estimator(train[:CDIST_MM_ROWS])  # a new, small bank: cdist itself, pair by pair
    small = torch.cdist(queries, density.bank).topk(2, largest=False, dim=1).values.mean(dim=1)
    assert torch.equal(density.raw_scores(queries), small)
