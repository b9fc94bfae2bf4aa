"""The job kinds the worker runs: what runs a job, and what its feature does when the
job ends unfinished (cancelled or given up) or is tried again. A later feature adds its
kind here, one line each."""

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from services.core.jobs import ClaimedJob
from services.data import import_steps
from services.newsletters import delivery


@dataclass(frozen=True)
class JobKind:
    label: str
    # Does the work; may run again after a crash, so a finished piece is not done twice.
    run: Callable[[ClaimedJob], dict | None]
    # In the transaction that ends the job unfinished: the feature's own record says so.
    abandon: Callable[[Session, dict, str], None] | None = None
    # In the transaction that queues it again: the feature's own record is revived.
    revive: Callable[[Session, dict], None] | None = None


JOB_KINDS: dict[str, JobKind] = {
    import_steps.ANALYSE_JOB: JobKind("Check an import file", import_steps.analyse, import_steps.abandon,
                                      import_steps.revive),
    import_steps.APPLY_JOB: JobKind("Import subscribers", import_steps.apply, import_steps.abandon,
                                    import_steps.revive),
    delivery.START_JOB: JobKind("Start sending a newsletter", delivery.start, delivery.abandon),
}
