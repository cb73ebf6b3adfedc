"""Build the frozen stages of either backend from a model config."""

from __future__ import annotations

from aivad.weights import WeightsSource


def build_backend(config, weights: WeightsSource, device: str):
    if config.backend == "lite":
        from aivad.lite import LiteBackend, LiteSettings

        return LiteBackend(LiteSettings(**config.backend_settings))
    from aivad.full import FullBackend, FullSettings

    return FullBackend(FullSettings.from_dict(config.backend_settings), weights, device)
