"""Training routes: start, stop, metrics, evaluate."""

from fastapi import APIRouter

from app.api import schemas as s
from app.api.deps import JobsDep, SessionsDep, SettingsDep, TokenDep
from app.sessions import job_view
from engine.train import evaluate_into

router = APIRouter(prefix="/sessions", tags=["training"], responses=s.ERRORS)


@router.post("/{session_id}/train", status_code=202, response_model=s.JobOut)
def start_training(session_id: str, body: s.TrainIn, jobs: JobsDep, token: TokenDep,
                   settings: SettingsDep):
    """Train `samples` or `epochs` in the background (one job per session); progress
    arrives as `train.progress` events, the end as `train.done` or `train.error`."""
    return jobs.start(session_id, token, samples=body.samples, epochs=body.epochs,
                      batch_size=body.batch_size, limit=settings.max_train_samples)


@router.post("/{session_id}/train/stop", response_model=s.JobOut)
def stop_training(session_id: str, jobs: JobsDep, token: TokenDep):
    """Ask the running job to stop after its current batch."""
    return job_view(jobs.stop(session_id, token))


@router.get("/{session_id}/metrics", response_model=s.MetricsOut)
def metrics(session_id: str, sessions: SessionsDep):
    """Loss per stretch of samples, held-out accuracy per evaluation, confusion matrix,
    kernel snapshots and the worst-classified held-out digits."""
    record, stepper = sessions.read(session_id)
    return {"job": job_view(record.meta.get("job")), **stepper.metrics}


@router.post("/{session_id}/evaluate", response_model=s.MetricsOut)
def evaluate(session_id: str, sessions: SessionsDep, token: TokenDep):
    """Evaluate on the 2000 held-out digits now and keep the result with the session."""
    with sessions.modify(session_id, token) as (record, stepper):
        evaluate_into(stepper)
    return {"job": job_view(record.meta.get("job")), **stepper.metrics}
