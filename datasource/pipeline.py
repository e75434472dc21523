"""The stage pipeline: which stages an order moves through, their SLAs and owners.

Stages are data, read from TOML (the ``[pipeline]`` table and ``[[stages]]`` array of the
configuration file, or the packaged default). Position is the order in the file.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cached_property
from importlib import resources
from pathlib import Path


class PipelineError(ValueError):
    """The pipeline configuration is unusable (unknown terminal stage, duplicate codes...)."""


@dataclass(frozen=True)
class Stage:
    code: str
    label_zh: str
    label_en: str
    position: int
    sla_hours: float
    department: str
    optional: bool = False

    def label(self, lang: str) -> str:
        return self.label_en if lang == "en" else self.label_zh


@dataclass(frozen=True)
class Pipeline:
    stages: tuple[Stage, ...]
    terminal: str
    timezone: str = "Asia/Shanghai"

    def __post_init__(self) -> None:
        codes = [s.code for s in self.stages]
        if len(set(codes)) != len(codes):
            raise PipelineError(f"duplicate stage codes in pipeline: {codes}")
        if self.terminal not in codes:
            raise PipelineError(f"terminal stage {self.terminal!r} is not one of {codes}")

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(s.code for s in self.stages)

    @property
    def first(self) -> Stage:
        return self.stages[0]

    def stage(self, code: str) -> Stage:
        for s in self.stages:
            if s.code == code:
                return s
        raise KeyError(code)

    def position(self, code: str) -> int:
        return self.stage(code).position

    @cached_property
    def positions(self) -> dict[str, int]:
        """Stage code -> position (computed once: do not change it)."""
        return {s.code: s.position for s in self.stages}

    @property
    def flow_stages(self) -> tuple[Stage, ...]:
        """Stages an open order can wait in: before the terminal stage, not optional."""
        end = self.position(self.terminal)
        return tuple(s for s in self.stages if s.position < end and not s.optional)

    @classmethod
    def from_mapping(cls, data: dict) -> "Pipeline":
        meta = data.get("pipeline", {})
        raw = data.get("stages")
        if not raw:
            raise PipelineError("the configuration has no [[stages]]")
        stages = []
        for i, s in enumerate(raw):
            try:
                stages.append(
                    Stage(
                        code=str(s["code"]),
                        label_zh=str(s.get("label_zh", s["code"])),
                        label_en=str(s.get("label_en", s["code"])),
                        position=i,
                        sla_hours=float(s.get("sla_hours", 0)),
                        department=str(s.get("department", "")),
                        optional=bool(s.get("optional", False)),
                    )
                )
            except KeyError as exc:
                raise PipelineError(f"stage #{i + 1} has no {exc.args[0]!r}") from None
        return cls(
            stages=tuple(stages),
            terminal=str(meta.get("terminal", stages[-1].code)),
            timezone=str(meta.get("timezone", "Asia/Shanghai")),
        )


def default_pipeline() -> Pipeline:
    text = resources.files("datasource").joinpath("default_pipeline.toml").read_text("utf-8")
    return Pipeline.from_mapping(tomllib.loads(text))


def load_pipeline(config_file: str | Path | None) -> Pipeline:
    """The pipeline of a configuration file, or the default when the file has no stages."""
    if config_file is None:
        return default_pipeline()
    data = tomllib.loads(Path(config_file).read_text("utf-8"))
    if "stages" not in data:
        base = default_pipeline()
        tz = data.get("pipeline", {}).get("timezone", base.timezone)
        return Pipeline(base.stages, data.get("pipeline", {}).get("terminal", base.terminal), tz)
    return Pipeline.from_mapping(data)
