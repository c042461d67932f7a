"""The shared web workspace (``harmonise serve``): officers upload their partnership's
exports, analysts compare every partnership's published results, admins manage users,
partnerships, crosswalk releases and the activity log's retention.

What this package owns: the HTTP face only — routes and their role gates
(:mod:`.app`, :mod:`.context`, :mod:`.access`), sign-in, sessions and CSRF
(:mod:`.auth`), the content-addressed upload folder (:mod:`.files`), the background worker
that runs queued jobs (:mod:`.runner`) and the pages (:mod:`.views_data`,
:mod:`.views_runs`, :mod:`.views_admin`, ``templates/``, ``static/``). It holds no
statistics: reading, checking, crosswalk drafting/validation/release, runs and reports are
the same stage functions the command line calls. Records live in
:mod:`harmonise.store.workspace`. Its third-party libraries (Starlette, python-multipart,
argon2-cffi, itsdangerous, Alembic, uvicorn) are the ``harmonise[web]`` extra and are
imported only here, so other commands start fast.
"""

from __future__ import annotations

from harmonise.web.context import WebConfig

__all__ = ["WebConfig", "create_app"]


def create_app(config: WebConfig) -> object:
    """The ASGI application for ``config`` (see :func:`harmonise.web.app.create_app`)."""
    from harmonise.web.app import create_app as build

    return build(config)
