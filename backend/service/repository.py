"""The model repository: every named model the service serves, and the checked, atomic swap of new weights.

Layout of MODEL_DIR (model_weights/), read at start-up:

    model.npz + model.json           the default model, served as MODEL_NAME ("mnist")
    <name>/model.npz + model.json    another model, served as <name> (a letter first, then letters, digits, _ . -)
    <name>/<N>/model.npz + ...       numbered version folders: the highest N that holds a model.json serves
    <N>/model.npz + ...              the same for the default model

A model's version is its card's `model_id` (derived from the weights' SHA-256), so /model, the V2
metadata and /metrics say which weights answer. At start-up every model is loaded and checked as
served_model.py does (card, SHA-256, shapes, finite values, rows of probabilities): one unusable
model stops the start. On reload (`refresh`: the admin route, the V2 load call, or the folder
watcher of each worker) a model whose files changed, or that gained a newer version folder, is
checked the same way plus the smoke test (backend/recognition/smoke.py) in a worker thread, then
swapped in by replacing one dict entry on the event loop: a request already running finishes on the
weights it started with, the next one gets the new ones. A bad file is refused with a log line and
the old model goes on serving; the same bad files are not re-tried until they change again.

What this module leaves out: HTTP (routes/admin.py, routes/v2.py) and telling other workers: each
worker watches the folder itself (`watch`), so a reload reaches all of them within RELOAD_POLL_S.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import anyio

from backend.nn.weights import CARD_FILE, WEIGHTS_FILE, WeightsError
from backend.recognition.smoke import smoke_test
from backend.service.batcher import MicroBatcher
from backend.service.served_model import ServedModel, load_served_model
from backend.service.telemetry import SERVED_VERSION

logger = logging.getLogger(__name__)

NAME_PATTERN = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]*$")
Fingerprint = tuple[tuple[str, int, int, int], ...]


class UnknownModelError(LookupError):
    """A model name (or version) this server does not serve; the message lists the names it does."""


def version_folder(folder: Path) -> Path:
    """Where `folder`'s model is: its highest numbered subfolder holding a card, else the folder itself."""
    versions = [p for p in folder.iterdir() if p.name.isdigit() and (p / CARD_FILE).is_file()] if folder.is_dir() else []
    return max(versions, key=lambda p: int(p.name)) if versions else folder


def find_models(model_dir: Path, default_name: str) -> dict[str, Path]:
    """name -> the folder its weights are in, for every model under model_dir (the default one first)."""
    found = {default_name: version_folder(model_dir)}
    for child in sorted(model_dir.iterdir()) if model_dir.is_dir() else []:
        if child.is_dir() and NAME_PATTERN.match(child.name) and child.name != default_name:
            source = version_folder(child)
            if (source / CARD_FILE).is_file():
                found[child.name] = source
    return found


def fingerprint(source: Path) -> Fingerprint:
    """What changes when the files do: (path, size, mtime, inode) of the card and the weights."""
    stats = []
    for name in (CARD_FILE, WEIGHTS_FILE):
        path = source / name
        try:
            st = path.stat()
        except OSError:
            stats.append((str(path), -1, -1, -1))
            continue
        stats.append((str(path), st.st_size, st.st_mtime_ns, st.st_ino))
    return tuple(stats)


def load_checked(source: Path) -> ServedModel:
    """load_served_model's checks plus the smoke test; WeightsError naming the file if any fails."""
    served = load_served_model(source)
    figure = served.card.get("validation_accuracy")
    if not isinstance(figure, int | float):
        raise WeightsError(f"{source / CARD_FILE}: the card has no validation_accuracy to smoke-test the weights against")
    result = smoke_test(served.model, float(figure))
    if not result.passed:
        raise WeightsError(
            f"{source / WEIGHTS_FILE}: scores {result.accuracy:.3f} on the built-in sample digits, below the "
            f"{result.required:.3f} its card's validation accuracy ({figure}) allows"
        )
    return served


@dataclass
class Slot:
    """One named model: what serves now, where it came from, and its batcher for single digits."""

    name: str
    served: ServedModel
    source: Path
    fingerprint: Fingerprint
    batcher: MicroBatcher = field(init=False)

    def __post_init__(self) -> None:
        self.batcher = MicroBatcher(self.served)


@dataclass(frozen=True)
class ReloadReport:
    """What one refresh did, by model name: new version loaded, kept (unchanged) or refused with why."""

    loaded: dict[str, str] = field(default_factory=dict)
    unchanged: list[str] = field(default_factory=list)
    refused: dict[str, str] = field(default_factory=dict)


class ModelRepository:
    def __init__(self, model_dir: Path, default_name: str, slots: dict[str, Slot]) -> None:
        self.model_dir = model_dir
        self.default_name = default_name
        self._slots = slots
        self._refused: dict[str, Fingerprint] = {}
        self._lock = asyncio.Lock()  # one refresh at a time per worker
        self.on_change: Callable[[], None] | None = None  # e.g. forget the cached OpenAPI schema (it lists the names)
        for slot in slots.values():
            SERVED_VERSION.labels(model=slot.name, version=slot.served.model_id).set(1)

    @classmethod
    def load(cls, model_dir: Path, default_name: str) -> ModelRepository:
        """Every model under model_dir, loaded and checked; WeightsError naming the file if one is unusable."""
        slots = {}
        for name, source in find_models(model_dir, default_name).items():
            before = fingerprint(source)
            slots[name] = Slot(name, load_served_model(source), source, before)
        return cls(model_dir, default_name, slots)

    @property
    def names(self) -> list[str]:
        return list(self._slots)

    @property
    def default(self) -> ServedModel:
        return self._slots[self.default_name].served

    def slot(self, name: str) -> Slot:
        try:
            return self._slots[name]
        except KeyError:
            raise UnknownModelError(f"no model {name!r}; this server serves {', '.join(map(repr, self._slots))}") from None

    def get(self, name: str, version: str | None = None) -> ServedModel:
        """The model called `name` (and of that version, when given); UnknownModelError listing what there is."""
        served = self.slot(name).served
        if version is not None and version != served.model_id:
            raise UnknownModelError(f"no model {name!r} version {version!r}; {name!r} is at version {served.model_id!r}")
        return served

    def batcher(self, name: str) -> MicroBatcher:
        return self.slot(name).batcher

    def changed(self, only: str | None = None, retry_refused: bool = False) -> dict[str, tuple[Path, Fingerprint]]:
        """Models whose files differ from what serves (new version folder, changed or new files).

        Files refused once are skipped until they change again, unless `retry_refused` (an explicit request).
        """
        found = find_models(self.model_dir, self.default_name)
        if only is not None:
            found = {only: found[only]} if only in found else {}
        out = {}
        for name, source in found.items():
            now = fingerprint(source)
            slot = self._slots.get(name)
            if slot is not None and slot.source == source and slot.fingerprint == now:
                continue
            if not retry_refused and self._refused.get(name) == now:
                continue
            out[name] = (source, now)
        return out

    async def refresh(self, only: str | None = None, retry_refused: bool = True) -> ReloadReport:
        """Check and swap in every model whose files changed (or just `only`); see the module docstring."""
        async with self._lock:
            report = ReloadReport()
            changes = self.changed(only, retry_refused)
            for name in self._slots if only is None else [only]:
                if name in self._slots and name not in changes:
                    report.unchanged.append(name)
            for name, (source, seen) in changes.items():
                try:
                    served = await anyio.to_thread.run_sync(load_checked, source)
                except (WeightsError, OSError) as err:
                    self._refused[name] = seen
                    old = self._slots.get(name)
                    still = f"version {old.served.model_id} keeps serving" if old else "it is not served"
                    logger.warning("model %s: new weights refused, %s: %s", name, still, err)
                    report.refused[name] = str(err)
                    continue
                self._swap(name, served, source, seen)
                report.loaded[name] = served.model_id
            return report

    def _swap(self, name: str, served: ServedModel, source: Path, seen: Fingerprint) -> None:
        # runs on the event loop thread, like every request: no request sees half a swap
        old = self._slots.get(name)
        if old is None:
            self._slots[name] = Slot(name, served, source, seen)
            if self.on_change is not None:
                self.on_change()
        else:
            SERVED_VERSION.labels(model=name, version=old.served.model_id).set(0)
            old.served, old.source, old.fingerprint = served, source, seen
            old.batcher.model = served
        self._refused.pop(name, None)
        SERVED_VERSION.labels(model=name, version=served.model_id).set(1)
        before = old.served.model_id if old else None
        logger.info("model %s: now serving version %s from %s (was %s)", name, served.model_id, source, before or "not served")

    async def watch(self, poll_s: float) -> None:
        """Refresh whenever files change, once they have stayed the same for one poll (a copy in progress is not read)."""
        pending: dict[str, Fingerprint] = {}
        while True:
            await asyncio.sleep(poll_s)
            try:
                changes = {name: seen for name, (_, seen) in self.changed().items()}
                settled = [name for name, seen in changes.items() if pending.get(name) == seen]
                pending = changes
                for name in settled:
                    await self.refresh(name, retry_refused=False)
            except Exception:  # the watcher must outlive any one bad scan (a folder removed mid-read...)
                logger.exception("model folder watch: scan failed, trying again in %s s", poll_s)
