"""Every area's routes, mounted by create_app. Each module exports `routes = [...]` with names."""

from starlette.routing import BaseRoute

from codesign.web import convertors

convertors.register()  # before the route modules below compile their paths

from codesign.routes import (  # noqa: E402
    accounts,
    definitions,
    evidence,
    framework,
    home,
    mail,
    moderation,
    online,
    panels,
    participate,
    people,
    population,
    present,
    public,
    round_control,
    rounds,
    sessions,
    study,
    vote,
)

all_routes: list[BaseRoute] = [
    *home.routes,
    *accounts.routes,
    *population.routes,
    *sessions.routes,
    *present.routes,
    *people.routes,
    *panels.routes,
    *moderation.routes,
    *participate.routes,
    *rounds.routes,
    *round_control.routes,
    *vote.routes,
    *online.routes,
    *mail.routes,
    *framework.routes,
    *definitions.routes,
    *evidence.routes,
    *public.routes,
    *study.routes,
]
