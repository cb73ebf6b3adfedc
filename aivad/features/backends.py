"""Build the frozen stages of either backend from a model config."""

from __future__ import annotations

from aivad.features.weights import WeightsSource


def build_backend(config, weights: WeightsSource, device: str):
    if config.backend == "lite":
        from aivad.features.lite import LiteBackend, LiteSettings

        return LiteBackend(LiteSettings(**config.backend_settings))
    from aivad.features.full import FullBackend, FullSettings

    return FullBackend(FullSettings.from_dict(config.backend_settings), weights, device)
