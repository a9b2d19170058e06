"""One run of the updater: take a ready release, install it beside the running one, switch, trial, keep or roll back.

Order matters, because power can go at any moment:
- the ratchet is saved only after every check passed (signature, hashes, target, needs);
- a version's folder counts only once its `complete` marker is written, after its check;
- the trial is recorded before `current` is switched, and a rollback records the failure
  before it switches back, so `boot` can always tell what was going on;
- without a trial `current` must equal `committed`, and `boot` makes it so.
`current` and `committed` are symlinks replaced by rename: there is always one
complete version behind `current`.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import signal
import time
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Callable, Iterator

from player.config import KioskConfig
from sync.layout import StateFolder, fsync_dir, write_atomic
from sync.keys import public_from_text
from sync.release import Release
from sync.release_follow import screen_target
from sync.update_area import area_of, read_small_json
from sync.wheeltags import Target

from .busy import busy_reason
from .errors import Blocked, InstallFailed, Refused, ServiceError, UpdateError
from .install import check_version, finish_pip, make_venv, pip_wheel, requirements, start_pip
from .layout import COMPLETE, Layout
from .services import PlayerState, ServiceManager
from .state import Trial, UpdaterState, load_state, save_state
from .trial import Evidence, Watch, judge
from .verify import Taken, copy_wheels, debian_installed, keep_documents, read_documents, remove_tree, verify

log = logging.getLogger(__name__)

# Tests stop the updater (SIGSTOP) at a named step through this variable, to kill -9 it exactly there.
STOP_AT = "KIOSK_UPDATE_STOP_AT"
RECENT = timedelta(minutes=10)  # "the server answered before the switch": within this long before it
KEEP_VERSIONS = 2


@dataclass(frozen=True)
class Options:
    layout: Layout
    config: KioskConfig
    services: ServiceManager
    python: str = "/usr/bin/python3"  # new venvs are made from it (Debian's, as install.sh does)
    user: str = "kiosk"  # the player's user: the new version's check runs as it
    poll: float = 1.0  # seconds between looks during a trial


class Updater:
    def __init__(self, options: Options, clock: Callable[[], datetime] | None = None, target: Target | None = None,
                 installed: Callable[[str], bool] = debian_installed) -> None:
        self.o, self.layout, self.config = options, options.layout, options.config
        if self.config.update is None or self.config.sync is None:
            raise UpdateError(f"{self.config.path} has no `update` section (with `sync`): this screen takes no releases")
        self.settings = self.config.update
        self.clock = clock or (lambda: datetime.now(self.config.tz))
        self.target = target or screen_target()
        self.installed = installed
        self.area = area_of(self.config.state_dir)

    # --- the commands ----------------------------------------------------------------------------------------

    def apply(self) -> str:
        """Take the ready release, if any, as far as it may go now."""
        with self._locked():
            state = self._reconcile(load_state(self.layout.state), booting=False)
            if state.trial is not None:
                return self._watch(state)
            if not self.area.ready.exists():
                return "no release is ready"
            marker = read_small_json(self.area.ready)
            if marker.get("sequence") in state.failed:
                return f"the ready release (sequence {marker.get('sequence')}) failed here before; waiting for a higher one"
            try:
                taken, ratcheted = self._take(state)
            except Refused as exc:
                self._status("refused", str(exc), None)
                log.error("release refused: %s", exc)
                return f"refused: {exc}"
            release = taken.release
            if self.layout.version_of(self.layout.current) == release.version:
                save_state(self.layout.state, ratcheted)
                self._status("committed", f"{release.version} runs already (sequence {release.sequence})", release)
                return f"{release.version} runs already"
            try:
                self._install(taken, state, ratcheted)
            except Refused as exc:
                self._status("refused", str(exc), release)
                return f"refused: {exc}"
            except (InstallFailed, Blocked) as exc:
                failed = ratcheted.with_failed(release.sequence)
                save_state(self.layout.state, failed)
                remove_tree(self.layout.release_dir(release.version))
                self._status("blocked", str(exc), release, failed)
                log.error("release %s not switched to: %s", release.version, exc)
                return f"blocked: {exc}"
            state = load_state(self.layout.state)
            now = self.clock()
            if not self.settings.may_switch(self.config.power.on, now):
                self._status("waiting", f"{release.version} is installed; it switches in the update window", release)
                return "waiting for the update window"
            files = StateFolder(self.config.state_dir)
            busy = busy_reason(files.store.notices, files.proof, now, self.config.touch.idle_timeout)
            if busy:
                self._status("waiting", f"{release.version} is installed; not now: {busy}", release)
                return f"waiting: {busy}"
            return self._switch(release, state)

    def boot(self) -> str:
        """At boot, before the player: links to complete versions, and a trial resumed or (second boot) rolled back."""
        with self._locked():
            state = self._reconcile(load_state(self.layout.state), booting=True)
            self._clean()
            trial = state.trial
            current = self.layout.version_of(self.layout.current)
            return f"current {current}" + (f", {trial.version} on trial (boot {trial.boots})" if trial else "")

    def rollback(self, reason: str) -> str:
        """Back to the committed version now (staff, or a trial found wanting)."""
        with self._locked():
            state = load_state(self.layout.state)
            if state.trial is None:
                return "no version is on trial; nothing to roll back"
            return self._rollback(state, reason)

    # --- taking and installing -----------------------------------------------------------------------------------

    def _take(self, state: UpdaterState) -> tuple[Taken, UpdaterState]:
        document, releasers = read_documents(self.area)
        self._step("copied")
        assert self.config.sync is not None
        root = public_from_text(self.config.sync.root_key)
        return verify(document, releasers, root, self.settings.channel, self.config.screen_id, self.target,
                      self.clock(), state, self.installed)

    def _install(self, taken: Taken, state: UpdaterState, ratcheted: UpdaterState) -> None:
        release = taken.release
        folder = self.layout.release_dir(release.version)
        if self.layout.is_complete(release.version) and _wheels_of(folder) == _wheel_ids(release):
            save_state(self.layout.state, ratcheted)
            return  # installed before (a promote of the same version, or a switch that waited)
        if release.version in (self.layout.version_of(self.layout.committed), self.layout.version_of(self.layout.current)):
            raise Refused(f"release {release.version} names another set of wheels than the {release.version} "
                          "running here; a changed release needs a new version")
        remove_tree(folder)
        wheels = folder / "wheels"
        try:
            copy_wheels(release, self.area, wheels)
            keep_documents(taken, folder)
        except OSError as exc:
            remove_tree(folder)
            raise InstallFailed(f"copying release {release.version} into {folder}: {exc.strerror or exc}") from None
        except Refused:
            remove_tree(folder)
            raise
        save_state(self.layout.state, ratcheted)  # every check passed: the ratchet moves
        self._step("ratcheted")
        self._status("installing", f"installing {release.version}", release)
        try:
            (folder / "requirements.txt").write_text(requirements(release.wheels, wheels), encoding="utf-8")
            make_venv(self.o.python, folder / "venv")
        except OSError as exc:
            raise InstallFailed(f"writing {folder}: {exc.strerror or exc}") from None
        self._step("venv")
        pip = start_pip(folder / "venv", pip_wheel(release.wheels, wheels, release.version), folder / "requirements.txt")
        self._step("pip")
        finish_pip(pip)
        self._step("installed")
        check_version(self.layout.python(release.version), self.config.path, self.layout.install, self.o.user)
        self._step("checked")
        write_atomic(folder / COMPLETE, json.dumps({"sequence": release.sequence, "sha256": taken.sha256,
                                                    "wheels": sorted(_wheel_ids(release))}).encode("utf-8"), 0o644)
        fsync_dir(self.layout.releases)
        self._step("complete")
        log.info("release %s installed in %s", release.version, folder)

    # --- switching, watching, deciding -----------------------------------------------------------------------------

    def _switch(self, release: Release, state: UpdaterState) -> str:
        previous = self.layout.version_of(self.layout.current)
        if not self.layout.is_complete(previous):
            previous = self.layout.version_of(self.layout.committed)
        if previous is None or not self.layout.is_complete(previous):
            raise UpdateError("no complete version runs now to come back to; not switching")
        now = self.clock()
        client = self.area.client()
        playing = read_small_json(StateFolder(self.config.state_dir).now_playing)
        trial = Trial(release.version, previous, release.sequence, now.isoformat(timespec="seconds"), 0,
                      _recent(client.get("answered"), now), _recent(client.get("heartbeat"), now),
                      playing.get("item") not in (None, "_fallback"))
        state = replace(state, trial=trial)
        save_state(self.layout.state, state)
        self._step("trial-recorded")
        point(self.layout.current, release.version)
        self._step("swapped")
        log.info("switched to %s (from %s); restarting the player for its trial", release.version, previous)
        stale = self._invocation()
        self._restart()
        self._step("restarted")
        return self._watch(state, stale)

    def _watch(self, state: UpdaterState, stale: str | None = None) -> str:
        trial = state.trial
        assert trial is not None
        self._status("trial", f"{trial.version} on trial (from {trial.previous})", None, state, trial.sequence)
        started, watch = time.monotonic(), Watch(stale)
        while True:
            evidence = self._evidence(trial, time.monotonic() - started)
            verdict = judge(trial, watch, evidence, self.settings.trial_seconds, self.settings.ready_seconds)
            watch = verdict.watch
            if verdict.action == "commit":
                return self._commit(state, verdict.reason)
            if verdict.action == "rollback":
                return self._rollback(state, verdict.reason)
            time.sleep(self.o.poll)

    def _evidence(self, trial: Trial, elapsed: float) -> Evidence:
        try:
            player = self.o.services.player_state()
        except ServiceError as exc:
            player = PlayerState("", False, 0, None, str(exc))
        playing = read_small_json(StateFolder(self.config.state_dir).now_playing)
        item = playing.get("item") if player.pid is not None and playing.get("pid") == player.pid else None
        client = self.area.client()
        since = datetime.fromisoformat(trial.started)
        answered = client.get("answered_by") == trial.version and _after(client.get("answered"), since)
        beat = client.get("heartbeat_by") == trial.version and _after(client.get("heartbeat"), since)
        return Evidence(elapsed, player, item if isinstance(item, str) else None, answered, beat)

    def _commit(self, state: UpdaterState, reason: str) -> str:
        trial = state.trial
        assert trial is not None
        point(self.layout.committed, trial.version)
        self._step("committing")
        done = replace(state, trial=None)
        save_state(self.layout.state, done)
        self._status("committed", reason, None, done, trial.sequence)
        self._prune(trial.version, trial.previous)
        log.info("committed %s: %s", trial.version, reason)
        return f"committed {trial.version}"

    def _rollback(self, state: UpdaterState, reason: str) -> str:
        trial = state.trial
        assert trial is not None
        failed = replace(state, trial=None).with_failed(trial.sequence)
        save_state(self.layout.state, failed)  # first: a power cut now still ends with the old version (see boot)
        point(self.layout.current, trial.previous)
        self._step("rolled-back")
        self._restart()
        self._status("rolled back", reason, None, failed, trial.sequence)
        log.error("rolled back from %s to %s: %s", trial.version, trial.previous, reason)
        if self.layout.version_of(self.layout.committed) != trial.version:
            remove_tree(self.layout.release_dir(trial.version))
        return f"rolled back to {trial.previous}: {reason}"

    # --- keeping the links sound ------------------------------------------------------------------------------

    def _reconcile(self, state: UpdaterState, booting: bool) -> UpdaterState:
        """Make `current` and `committed` point at complete versions and settle a trial a stop cut short."""
        layout = self.layout
        for link in (layout.current, layout.committed):
            link.with_name(link.name + ".new").unlink(missing_ok=True)
        committed = layout.version_of(layout.committed)
        current = layout.version_of(layout.current)
        if not layout.is_complete(committed):
            committed = current if layout.is_complete(current) else self._newest_complete()
            if committed is not None:
                point(layout.committed, committed)
        trial = state.trial
        if trial is not None and trial.version == committed and committed != trial.previous:
            state = replace(state, trial=None)  # stopped in the middle of a commit: finish it
            save_state(layout.state, state)
            self._status("committed", f"{trial.version} committed (finished at restart)", None, state, trial.sequence)
            trial = None
        if trial is not None and current != trial.version:
            log.warning("the switch to %s did not happen (the updater stopped before it); it is tried again",
                        trial.version)
            state = replace(state, trial=None)
            save_state(layout.state, state)
            trial = None
        want = current
        if trial is None and current != committed:
            want = committed  # no trial: only the committed version may run (an unfinished rollback or switch)
        elif trial is not None and booting:
            trial = replace(trial, boots=trial.boots + 1)
            state = replace(state, trial=trial)
            save_state(layout.state, state)
            if trial.boots >= 2:
                failed = replace(state, trial=None).with_failed(trial.sequence)
                save_state(layout.state, failed)
                self._status("rolled back", f"{trial.version} was not committed across two boots", None, failed,
                             trial.sequence)
                log.error("rolled back from %s to %s: not committed across two boots", trial.version, trial.previous)
                state, want = failed, trial.previous
        if want is not None and want != current and layout.is_complete(want):
            point(layout.current, want)
            if self._player_running():
                self._restart()
        return state

    def _newest_complete(self) -> str | None:
        complete = [v for v in self.layout.versions() if self.layout.is_complete(v)]
        return complete[-1] if complete else None

    def _clean(self) -> None:
        """Half-built versions (no `complete` marker) go; complete ones stay (one may wait for its window)."""
        keep = {self.layout.version_of(self.layout.current), self.layout.version_of(self.layout.committed)}
        for version in self.layout.versions():
            if version not in keep and not (self.layout.release_dir(version) / COMPLETE).is_file():
                log.info("removing %s: its install did not finish", self.layout.release_dir(version))
                remove_tree(self.layout.release_dir(version))

    def _prune(self, new: str, previous: str) -> None:
        for version in self.layout.versions():
            if version not in (new, previous):
                remove_tree(self.layout.release_dir(version))
        self._clean()

    def _invocation(self) -> str | None:
        try:
            return self.o.services.player_state().invocation
        except ServiceError:
            return None

    def _player_running(self) -> bool:
        try:
            return self.o.services.player_state().pid is not None
        except ServiceError:
            return False

    def _restart(self) -> None:
        try:
            self.o.services.restart_player()
        except ServiceError as exc:
            log.error("%s", exc)

    # --- reporting --------------------------------------------------------------------------------------------

    def _status(self, name: str, reason: str, release: Release | None, state: UpdaterState | None = None,
                sequence: int | None = None) -> None:
        state = state or load_state(self.layout.state)
        record = {"state": name, "reason": reason[:1000], "time": self.clock().isoformat(timespec="seconds"),
                  "sequence": release.sequence if release else sequence,
                  "version": release.version if release else (state.trial.version if state.trial else None),
                  "current": self.layout.version_of(self.layout.current),
                  "committed": self.layout.version_of(self.layout.committed), "failed": list(state.failed)}
        try:
            write_atomic(self.layout.status, json.dumps(record, indent=1).encode("utf-8"), 0o644)
        except OSError as exc:
            log.error("cannot write %s: %s", self.layout.status, exc)

    def _step(self, name: str) -> None:
        log.debug("step: %s", name)
        if os.environ.get(STOP_AT) == name:
            os.kill(os.getpid(), signal.SIGSTOP)

    @contextmanager
    def _locked(self) -> Iterator[None]:
        self.layout.var.mkdir(parents=True, exist_ok=True)
        with open(self.layout.lock, "a+") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise UpdateError(f"another updater run holds {self.layout.lock}; try again later") from None
            yield


def point(link: Path, version: str) -> None:
    """Point `link` at releases/<version> with one rename: readers see the old target or the new, never none."""
    tmp = link.with_name(link.name + ".new")
    tmp.unlink(missing_ok=True)
    os.symlink(Path("releases") / version, tmp)
    os.replace(tmp, link)
    fsync_dir(link.parent)


def _wheel_ids(release: Release) -> set[str]:
    return {f"{w.name}:{w.sha256}" for w in release.wheels}


def _wheels_of(folder: Path) -> set[str]:
    return set(read_small_json(folder / COMPLETE).get("wheels") or [])


def _recent(text: Any, now: datetime) -> bool:
    when = _time(text)
    return when is not None and now - RECENT <= when <= now + timedelta(minutes=1)


def _after(text: Any, since: datetime) -> bool:
    when = _time(text)
    return when is not None and when >= since


def _time(text: Any) -> datetime | None:
    try:
        when = datetime.fromisoformat(text) if isinstance(text, str) else None
    except ValueError:
        return None
    return when if when is not None and when.tzinfo is not None else None

