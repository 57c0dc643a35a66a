"""Run a query or service function in a worker thread with its own database session.

Handlers stay thin and the event loop never waits on the database:

    summary = await read(request, queries.list_population_groups)
    outcome = await write(request, proposals.propose_outcome, session_id, participant_id, text)
    signed_in = await transactions(request, signin.sign_in, email, password, ...)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Concatenate, ParamSpec, TypeVar

from sqlalchemy import Engine
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from codesign.db import read_session, write_session

P = ParamSpec("P")
T = TypeVar("T")


async def read(
    request: Request, fn: Callable[Concatenate[Session, P], T], *args: P.args, **kwargs: P.kwargs
) -> T:
    engine = request.app.state.engine

    def call() -> T:
        with read_session(engine) as db:
            return fn(db, *args, **kwargs)

    return await run_in_threadpool(call)


async def write(
    request: Request, fn: Callable[Concatenate[Session, P], T], *args: P.args, **kwargs: P.kwargs
) -> T:
    engine = request.app.state.engine

    def call() -> T:
        with write_session(engine) as db:
            return fn(db, *args, **kwargs)

    return await run_in_threadpool(call)


async def transactions(
    request: Request, fn: Callable[Concatenate[Engine, P], T], *args: P.args, **kwargs: P.kwargs
) -> T:
    """A service that runs several short transactions of its own (reserve, check a password with no
    transaction open, settle) gets the engine rather than one session."""
    return await run_in_threadpool(fn, request.app.state.engine, *args, **kwargs)
