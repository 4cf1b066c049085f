"""`evalboard worker`: claim a job, run it in a child process, heartbeat, commit, repeat.

The parent imports no torch: it only watches the child, extends the lease, mirrors progress and
the log tail into the database, and commits the child's results in one fenced transaction.
"""

from __future__ import annotations

import fcntl
import logging
import multiprocessing
import shutil
import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.config import Settings
from app.db import session_scope, utcnow
from app.queue import jobs
from app.queue.wakeup import waiter_for
from app.runs import service as runs
from app.tables import ACTIVE_REQUEST_STATUSES, EvalRequest, JobStatus, LlmModel
from app.worker import child, files, finetune_jobs, judge_jobs

log = logging.getLogger("evalboard.worker")
SIGNAL_NAMES = {-s.value: s.name for s in signal.Signals}


@dataclass
class AttemptResult:
    kind: str  # finished | failed | lost | cancelled | released
    detail: str = ""


class Worker:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.url = settings.resolved_database_url
        self.worker_id = settings.resolved_worker_id
        self.stop_requested_at: float | None = None
        self._last_reap = 0.0
        self._mp = multiprocessing.get_context("spawn")

    # --- lifecycle -------------------------------------------------------------------------------

    def install_signal_handlers(self) -> None:
        signal.signal(signal.SIGTERM, self._on_stop_signal)
        signal.signal(signal.SIGINT, self._on_stop_signal)

    def _on_stop_signal(self, signum: int, _frame: FrameType | None) -> None:
        if self.stop_requested_at is None:
            log.info(
                "received %s: finishing or releasing the current job, then stopping",
                signal.Signals(signum).name,
            )
            self.stop_requested_at = time.monotonic()

    @property
    def stopping(self) -> bool:
        return self.stop_requested_at is not None

    def run(self, *, max_jobs: int | None = None, exit_when_idle: bool = False) -> int:
        """Work until stopped. Returns the number of jobs handled."""
        waiter = waiter_for(self.url)
        handled = 0
        log.info("worker %s started on %s", self.worker_id, self.url.split("@")[-1])
        try:
            while not self.stopping and (max_jobs is None or handled < max_jobs):
                self.reap_if_due()
                claimed = self.claim()
                if claimed is None:
                    if exit_when_idle:
                        break
                    waiter.wait(self.settings.worker_poll_seconds)
                    continue
                self.run_job(claimed)
                handled += 1
        finally:
            waiter.close()
        return handled

    # --- queue -----------------------------------------------------------------------------------

    def claim(self) -> jobs.ClaimedJob | None:
        with session_scope(self.url) as session:
            return jobs.claim(session, self.worker_id)

    def reap_if_due(self, force: bool = False) -> list[jobs.ReapedJob]:
        now = time.monotonic()
        if not force and now - self._last_reap < min(self.settings.worker_lease_seconds / 2, 15.0):
            return []
        self._last_reap = now
        with session_scope(self.url) as session:
            reaped = jobs.reap(
                session, self.settings.worker_lease_seconds, self.settings.job_retry_backoff_seconds
            )
            for job in reaped:
                if job.request_id is None:
                    finetune_jobs.reaped(session, self.settings, job.id, job.reason, job.requeued)
                else:
                    runs.mark_failed_or_pending(
                        session, job.request_id, error=job.reason, log_tail=None, final=not job.requeued
                    )
                log.warning("reaped job %s: %s", job.id, job.reason)
        return reaped

    # --- one job ---------------------------------------------------------------------------------

    def _job_spec(self, session: Session, job: jobs.ClaimedJob) -> dict[str, Any] | None:
        if job.kind == "finetune":
            return finetune_jobs.job_spec(session, self.settings, job)
        if job.kind == judge_jobs.KIND:  # the job row holds everything it needs
            return judge_jobs.job_spec(self.settings, job)
        request = session.get(EvalRequest, job.request_id) if job.request_id else None
        if request is None or request.status not in ACTIVE_REQUEST_STATUSES:
            return None
        model = session.scalar(select(LlmModel).where(LlmModel.id == request.model_id))
        assert model is not None
        return {
            "kind": job.kind,
            "suite": request.suite,
            "target": {
                "reference": model.reference,
                "source": model.source,
                "revision": model.revision,
                "commit_sha": model.commit_sha,
                "precision": model.precision,
                "weight_type": model.weight_type,
                "base_model": model.base_model,
                "use_chat_template": model.use_chat_template,
                "tokenizer": model.tokenizer,
            },
            "cache_dir": str(self.settings.resolved_model_cache_dir),
            "harness": self.settings.harness_kwargs,
            "private_dir": str(self.settings.resolved_private_dir),
            **job.payload,
        }

    def run_job(self, job: jobs.ClaimedJob) -> AttemptResult:
        with session_scope(self.url) as session:
            spec = self._job_spec(session, job)
            if spec is None:  # request cancelled or gone since the job was queued
                jobs.complete(session, job, self.worker_id)
                return AttemptResult("cancelled", "request no longer active")
            if job.kind == "finetune":
                finetune_jobs.mark_running(session, job, self.worker_id)
                folder = Path(spec["output_dir"])
            elif job.kind == judge_jobs.KIND:
                folder = judge_jobs.job_dir(self.settings, job)
            else:
                runs.mark_running(session, job.request_id or 0, self.worker_id, job.attempt)
                folder = self.settings.resolved_artifacts_dir / "requests" / str(job.request_id)
        attempt_dir = folder / f"attempt-{job.attempt}"
        if attempt_dir.exists():  # a released attempt reuses its number: start from a clean folder
            shutil.rmtree(attempt_dir)
        attempt_dir.mkdir(parents=True)
        log.info(
            "job %s (request %s, attempt %s): %s on %s",
            job.id,
            job.request_id,
            job.attempt,
            spec["target"]["reference"],
            spec["suite"],
        )
        process = self._mp.Process(
            target=child.main, args=(spec, str(attempt_dir)), name=f"evalboard-job-{job.id}"
        )
        process.start()
        outcome = self._watch(job, process, attempt_dir)
        log.info("job %s: %s %s", job.id, outcome.kind, outcome.detail)
        return outcome

    def _tail(self, attempt_dir: Path) -> str:
        return files.log_tail(attempt_dir / files.LOG, self.settings.log_tail_lines)

    def _watch(self, job: jobs.ClaimedJob, process: Any, attempt_dir: Path) -> AttemptResult:
        request_id = job.request_id or 0
        deadline = time.monotonic() + self.settings.worker_job_timeout_seconds
        while True:
            process.join(timeout=self.settings.worker_heartbeat_seconds)
            if not process.is_alive():
                break
            if time.monotonic() > deadline:
                self._kill(process)
                limit = f"{self.settings.worker_job_timeout_seconds:g}s"
                files.write_json_atomic(
                    attempt_dir / files.ERROR,
                    {
                        "error": f"timed out after {limit} (EVALBOARD_WORKER_JOB_TIMEOUT_SECONDS)",
                        "permanent": False,
                    },
                )
                break
            with session_scope(self.url) as session:
                status = jobs.heartbeat(session, job, self.worker_id)
                progress = files.read_json(attempt_dir / files.PROGRESS) or {}
                if job.kind == "finetune":
                    finetune_jobs.record_progress(session, job, progress, self._tail(attempt_dir))
                elif job.kind != judge_jobs.KIND:
                    runs.record_progress(
                        session,
                        request_id,
                        progress=progress.get("progress"),
                        current_task=progress.get("task"),
                        log_tail=self._tail(attempt_dir),
                    )
            if status != JobStatus.RUNNING:
                self._kill(process)
                if status == JobStatus.CANCELLED:
                    return AttemptResult("cancelled", "cancelled while running")
                return AttemptResult("lost", f"lease lost (job is {status}); results discarded")
            if self.stop_requested_at is not None and (
                time.monotonic() - self.stop_requested_at > self.settings.worker_shutdown_grace_seconds
            ):
                self._kill(process)
                with session_scope(self.url) as session:
                    released = jobs.release(
                        session, job, self.worker_id, f"released by {self.worker_id} on shutdown"
                    )
                    if released and job.kind == "finetune":
                        finetune_jobs.settle_failed(
                            session, self.settings, job, "worker shut down; queued again", "", final=False
                        )
                    elif released and job.kind != judge_jobs.KIND:
                        runs.mark_failed_or_pending(
                            session,
                            request_id,
                            error="worker shut down; queued again",
                            log_tail=self._tail(attempt_dir),
                            final=False,
                        )
                return AttemptResult("released", "worker shutting down")
        return self._settle(job, process.exitcode, attempt_dir)

    def _settle(self, job: jobs.ClaimedJob, exitcode: int | None, attempt_dir: Path) -> AttemptResult:
        request_id = job.request_id or 0
        tail = self._tail(attempt_dir)
        outcome = files.read_json(attempt_dir / files.OUTCOME) if exitcode == 0 else None
        with session_scope(self.url) as session:
            if outcome is not None:
                if not jobs.complete(session, job, self.worker_id):
                    session.rollback()  # someone else owns this job now: keep nothing
                    return AttemptResult("lost", "lease lost before commit; results discarded")
                if job.kind == "finetune":
                    outcome["progress"] = files.read_json(attempt_dir / files.PROGRESS)
                    detail = finetune_jobs.settle_finished(
                        session, self.settings, job, outcome, attempt_dir, tail
                    )
                    return AttemptResult("finished", detail)
                if job.kind == judge_jobs.KIND:
                    return AttemptResult("finished", judge_jobs.settle_finished(session, job, outcome))
                rows = outcome["metrics"]  # MetricValue fields, which are the result columns
                runs.mark_finished(
                    session,
                    request_id,
                    rows,
                    str(attempt_dir),
                    tail,
                    data_source=outcome.get("data_source"),
                    item_scores=outcome.get("item_scores"),
                    private_dir=self.settings.resolved_private_dir,
                )
                return AttemptResult("finished", f"{len(rows)} metrics")
            error_file = files.read_json(attempt_dir / files.ERROR) or {}
            permanent = bool(error_file.get("permanent"))
            if error_file.get("error"):
                error = str(error_file["error"])
            elif exitcode is not None and exitcode < 0:
                name = SIGNAL_NAMES.get(exitcode, str(-exitcode))
                hint = " (the kernel's out-of-memory killer sends SIGKILL)" if name == "SIGKILL" else ""
                error = f"evaluation process was killed by {name}{hint}"
            else:
                error = f"evaluation process exited with code {exitcode} and left no result"
            if job.kind == "finetune":
                return self._settle_failed_finetune(session, job, error, permanent, tail)
            new_status = jobs.fail(
                session,
                job,
                self.worker_id,
                error,
                retry=not permanent,
                backoff_seconds=self.settings.job_retry_backoff_seconds,
            )
            if new_status is None:
                return AttemptResult("lost", "lease lost before recording the failure")
            final = new_status == JobStatus.FAILED
            if not final:
                error = f"attempt {job.attempt} of {job.max_attempts} failed, will retry: {error}"
            if job.kind != judge_jobs.KIND:  # a judge job's row holds its error itself
                runs.mark_failed_or_pending(session, request_id, error=error, log_tail=tail, final=final)
            return AttemptResult("failed", error)

    def _settle_failed_finetune(
        self, session: Session, job: jobs.ClaimedJob, error: str, permanent: bool, tail: str
    ) -> AttemptResult:
        final = permanent or job.attempt >= job.max_attempts
        if finetune_jobs.settle_failed(session, self.settings, job, error, tail, final=final):
            jobs.complete(session, job, self.worker_id)  # trained: its evaluations went to the queue
            return AttemptResult("failed", f"evaluation moved to the queue: {error}")
        new_status = jobs.fail(
            session,
            job,
            self.worker_id,
            error,
            retry=not permanent,
            backoff_seconds=self.settings.job_retry_backoff_seconds,
        )
        if new_status is None:
            session.rollback()
            return AttemptResult("lost", "lease lost before recording the failure")
        return AttemptResult("failed", error)

    @staticmethod
    def _kill(process: Any) -> None:
        process.terminate()
        process.join(timeout=10)
        if process.is_alive():
            process.kill()
            process.join(timeout=5)


class WorkerAlreadyRunning(RuntimeError):
    pass


class WorkerSettingsError(RuntimeError):
    """A setting that would fail every job the worker claims: it refuses to start instead."""


@contextmanager
def sqlite_worker_lock(settings: Settings) -> Iterator[None]:
    """The embedded SQLite default has one local worker: SQLite has one writer at a time and no
    SKIP LOCKED, so more workers would only queue on its lock. PostgreSQL takes any number."""
    if not settings.is_sqlite:
        yield
        return
    lock_path = settings.home / "worker.lock"
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with lock_path.open("w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise WorkerAlreadyRunning(
                f"another worker already serves the SQLite database in {settings.home}; "
                "use PostgreSQL (EVALBOARD_DATABASE_URL) to run several workers"
            ) from None
        yield


def run_worker(settings: Settings, *, max_jobs: int | None = None, exit_when_idle: bool = False) -> int:
    check_backend(settings)
    with sqlite_worker_lock(settings):
        worker = Worker(settings)
        worker.install_signal_handlers()
        started = utcnow()
        handled = worker.run(max_jobs=max_jobs, exit_when_idle=exit_when_idle)
        log.info("worker %s stopped after %s job(s), up since %s", worker.worker_id, handled, started)
        return handled


def check_backend(settings: Settings) -> None:
    """The configured backend is auto or a registered one (harness/backends), checked by name only:
    nothing heavy is imported in the worker's own process."""
    from benchmarks.target import ModelLoadError
    from harness.backends import check_name

    try:
        check_name(settings.worker_backend)
    except ModelLoadError as exc:
        raise WorkerSettingsError(f"EVALBOARD_WORKER_BACKEND: {exc}") from None
