"""The FastAPI app: `create_app()` (what `ecom api` serves with uvicorn); OpenAPI docs at /docs.

Every /v1 route needs `Authorization: Bearer <token>`. Responses carry `X-Served-From: redis|duckdb` and
`X-Build-Id`. Bad parameters get a 422 whose `detail` names each bad one in a line; an unknown segment, product or
customer is a 404 naming it; a mart the published version does not hold is a 503 naming the mart.
"""

# No `from __future__ import annotations`: FastAPI reads these signatures at run time, local names included.
import secrets
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, FastAPI, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.auth import api_token
from api.source import Served, Source
from pipeline.read import (
    PART_MARTS,
    PublishRefused,
    hot_field,
    part_available,
)  # PublishRefused: nothing published
from pipeline.settings import Settings

SegmentType = Literal["all", "gender", "age_band", "region", "rfm_segment"]
Season = Literal["winter", "spring", "summer", "autumn"]
ItemKind = Literal["product", "brand", "category"]
Limit = Annotated[int, Query(ge=1, le=100, description="at most this many items")]
ProductId = Annotated[int, Path(ge=0, le=2**63 - 1, description="the product's product_id")]
UserId = Annotated[int, Path(ge=0, le=2**63 - 1, description="the customer's user_id")]


class ApiError(Exception):
    def __init__(self, status: int, detail: str, served: Served | None = None):
        super().__init__(detail)
        self.status, self.detail, self.served = status, detail, served


def _headers(served: Served | None) -> dict[str, str]:
    return {"X-Served-From": served.source, "X-Build-Id": served.build_id} if served else {}


def respond(served: Served, body: dict) -> JSONResponse:
    return JSONResponse({**body, "build_id": served.build_id}, headers=_headers(served))


def need(served: Served, part: str) -> None:
    """A 503 naming the mart when the published version does not hold what the request needs."""
    if not part_available(part, served.meta.get("marts", [])):
        marts = " or ".join(PART_MARTS[part])
        raise ApiError(
            503,
            f"{marts} is not in the published marts (build {served.build_id}): not available until a build "
            "that has it is published",
            served,
        )


def _one_line(error: dict) -> str:
    where = ".".join(str(p) for p in error.get("loc", ()) if p not in ("query", "path", "body"))
    got = f" (got {error['input']!r})" if "input" in error and error["input"] is not None else ""
    return f"{where or 'request'}: {error.get('msg', 'invalid')}{got}"


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings.load()
    token = api_token(settings)
    source = Source(settings)
    bearer = HTTPBearer(auto_error=False, description="ECOM_API_TOKEN, else $ECOM_DATA_DIR/secrets/api.token")

    async def authorized(
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    ) -> None:
        if credentials is None or not secrets.compare_digest(
            credentials.credentials.encode(), token.encode()
        ):
            raise ApiError(401, "missing or wrong bearer token: send `Authorization: Bearer <token>`")

    app = FastAPI(
        title="ecom API",
        summary="Hot products, bought-together lists, the latest KPIs and customer scores from the marts.",
        description=__doc__,
        version="1",
    )

    @app.exception_handler(ApiError)
    def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        headers = _headers(exc.served)
        if exc.status == 401:
            headers["WWW-Authenticate"] = "Bearer"
        return JSONResponse({"detail": exc.detail}, status_code=exc.status, headers=headers)

    @app.exception_handler(RequestValidationError)
    def _bad_parameters(request: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse({"detail": "; ".join(_one_line(e) for e in exc.errors())}, status_code=422)

    @app.exception_handler(PublishRefused)
    def _nothing_published(request: Request, exc: PublishRefused) -> JSONResponse:
        return JSONResponse({"detail": " ".join(str(exc).split())}, status_code=503)

    @app.get("/health", tags=["health"], summary="Which version is served, and from where (no token needed)")
    def health() -> JSONResponse:
        served = source.get("kpis")
        return respond(served, {"status": "ok", "served_from": served.source, "marts": served.meta["marts"]})

    v1 = APIRouter(prefix="/v1", dependencies=[Depends(authorized)])

    @v1.get(
        "/hot-products",
        tags=["products"],
        summary="Top products, brands or categories of a segment and season",
    )
    def hot_products(
        season: Annotated[Season, Query(description="meteorological season of the market's hemisphere")],
        segment_type: Annotated[SegmentType, Query()] = "all",
        segment: Annotated[
            str, Query(min_length=1, max_length=100, description="'all' for segment_type all")
        ] = "all",
        kind: Annotated[ItemKind, Query()] = "product",
        limit: Limit = 10,
    ) -> JSONResponse:
        served = source.get("hot", hot_field(segment_type, segment, season, kind))
        need(served, "hot")
        if served.value is None:
            known = (source.get("hot_index").value or {}).get(segment_type, [])
            if segment not in known:
                shown = ", ".join(known[:30]) + (", ..." if len(known) > 30 else "")
                raise ApiError(
                    404,
                    f"unknown segment {segment!r} of segment_type {segment_type} (known: {shown or 'none'})",
                    served,
                )
            raise ApiError(404, f"no hot {kind} list for {segment_type}={segment} in {season}", served)
        doc = served.value
        return respond(served, {**doc, "items": doc["items"][:limit]})

    def related(kind: str, product_id: int, limit: int) -> JSONResponse:
        served = source.get(kind, str(product_id))
        need(served, kind)
        doc = served.value
        if doc is None:
            known = source.get("products", str(product_id)).value
            if known is None:
                raise ApiError(
                    404, f"unknown product {product_id}: dm_product_affinity does not know it", served
                )
            # a known product with no pair above the minimum support: an empty list, not a 404
            doc = {**known, "kind": kind, "related": []}
        return respond(served, {**doc, "related": doc["related"][:limit]})

    @v1.get("/products/{product_id}/bought-together", tags=["products"], summary="Products bought with it")
    def bought_together(product_id: ProductId, limit: Limit = 10) -> JSONResponse:
        return related("bought_together", product_id, limit)

    @v1.get("/products/{product_id}/viewed-together", tags=["products"], summary="Products viewed with it")
    def viewed_together(product_id: ProductId, limit: Limit = 10) -> JSONResponse:
        return related("viewed_together", product_id, limit)

    @v1.get("/kpis/latest", tags=["kpis"], summary="The latest day of dm_kpi_daily")
    def latest_kpis() -> JSONResponse:
        served = source.get("kpis")
        need(served, "kpis")
        if served.value is None:
            raise ApiError(404, "dm_kpi_daily holds no day yet", served)
        return respond(served, served.value)

    @v1.get("/customers/{user_id}", tags=["customers"], summary="A customer's churn risk and predicted value")
    def customer(user_id: UserId) -> JSONResponse:
        served = source.get("customers", str(user_id))
        need(served, "customers")
        if served.value is None:
            raise ApiError(
                404,
                f"unknown customer {user_id}: not scored in dm_customer_churn or dm_customer_lifetime_value",
                served,
            )
        return respond(served, served.value)

    app.include_router(v1)
    return app
