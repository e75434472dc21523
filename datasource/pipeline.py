"""The stage pipeline: which stages an order moves through, their SLAs and owners.

Stages are data, read from TOML (the ``[pipeline]`` table and ``[[stages]]`` array of the
configuration file, or the packaged default). Position is the order in the file: it
decides how stages are displayed, never a number (DESIGN.md section 4).

``[pipeline]`` keys:

``terminal``                 the stage whose entry completes an order. Default:
                             ``received`` when the pipeline has it, else none (a log
                             without a terminal activity). Never implied by position.
``timezone``                 naive timestamps are read in this zone; screens show it.
``complete_after_idle_days`` logs without a terminal activity: a case completes at its
                             last event once it has been idle longer than this.
``idle_reference``           ``"now"`` (default) or ``"newest_event"``: idle relative to
                             the clock, or to the newest event in the store (a
                             historical store, where "now" is long after its data).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cached_property
from importlib import resources
from pathlib import Path


class PipelineError(ValueError):
    """The pipeline configuration is unusable (unknown terminal stage, duplicate codes...)."""


# Column limits of the store (datasource.schema): checked here, so a pipeline that does
# not fit is one clear line before anything is written, on every backend.
CODE_LIMIT = 32
LABEL_LIMIT = 64
DEPARTMENT_LIMIT = 64
DEFAULT_TERMINAL = "received"
IDLE_REFERENCES = ("now", "newest_event")


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
    terminal: str | None
    timezone: str = "Asia/Shanghai"
    complete_after_idle_days: float | None = None
    idle_reference: str = "now"

    def __post_init__(self) -> None:
        codes = [s.code for s in self.stages]
        if len(set(codes)) != len(codes):
            raise PipelineError(f"duplicate stage codes in pipeline: {codes}")
        if self.terminal is not None and self.terminal not in codes:
            raise PipelineError(f"terminal stage {self.terminal!r} is not one of {codes}")
        for s in self.stages:
            for what, value, limit in (("code", s.code, CODE_LIMIT),
                                       ("label_zh", s.label_zh, LABEL_LIMIT),
                                       ("label_en", s.label_en, LABEL_LIMIT),
                                       ("department", s.department, DEPARTMENT_LIMIT)):
                if len(value) > limit:
                    raise PipelineError(
                        f"stage #{s.position + 1} {what} {value!r} is {len(value)} characters "
                        f"long; at most {limit} fit the store"
                    )
            if not s.code.strip():
                raise PipelineError(f"stage #{s.position + 1} has an empty code")
        if self.idle_reference not in IDLE_REFERENCES:
            raise PipelineError(f"idle_reference must be one of {', '.join(IDLE_REFERENCES)}, "
                                f"not {self.idle_reference!r}")
        if self.complete_after_idle_days is not None and not self.complete_after_idle_days > 0:
            raise PipelineError("complete_after_idle_days must be a number of days > 0")

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
        """Stages an open order can wait in: every stage but the terminal one and the
        optional branches (after-sales), in display order."""
        return tuple(s for s in self.stages if s.code != self.terminal and not s.optional)

    def is_branch(self, code: str) -> bool:
        """An optional branch stage (after-sales): its visits are its own work, which may
        still be open after the order completed."""
        return code in self.positions and self.stage(code).optional

    @classmethod
    def from_mapping(cls, data: dict) -> Pipeline:
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
        codes = {s.code for s in stages}
        return cls(
            stages=tuple(stages),
            terminal=_terminal(meta, codes),
            timezone=str(meta.get("timezone", "Asia/Shanghai")),
            **_idle_rule(meta),
        )


def _terminal(meta: dict, codes: set[str]) -> str | None:
    """The terminal stage: as configured (``""`` for none), else ``received`` if the
    pipeline has it, else none."""
    if "terminal" in meta:
        value = str(meta["terminal"]).strip()
        return value or None
    return DEFAULT_TERMINAL if DEFAULT_TERMINAL in codes else None


PIPELINE_KEYS = {"terminal", "timezone", "complete_after_idle_days", "idle_reference"}


def _idle_rule(meta: dict) -> dict:
    unknown = sorted(set(meta) - PIPELINE_KEYS)
    if unknown:
        raise PipelineError(f"[pipeline] has unknown key(s) {', '.join(unknown)}; "
                            f"allowed: {', '.join(sorted(PIPELINE_KEYS))}")
    days = meta.get("complete_after_idle_days")
    if days is not None and (isinstance(days, bool) or not isinstance(days, int | float)):
        raise PipelineError(f"complete_after_idle_days must be a number of days, not {days!r}")
    return {
        "complete_after_idle_days": None if days is None else float(days),
        "idle_reference": str(meta.get("idle_reference", "now")),
    }


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
        meta = data.get("pipeline", {})
        return Pipeline(base.stages, _terminal(meta, set(base.codes)) if "terminal" in meta
                        else base.terminal, meta.get("timezone", base.timezone), **_idle_rule(meta))
    return Pipeline.from_mapping(data)
