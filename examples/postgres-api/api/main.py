"""A small items API: FastAPI on uvicorn, rows stored in PostgreSQL (psycopg 3)."""

from __future__ import annotations

import logging
import os
from typing import Any

import psycopg
from fastapi import FastAPI, HTTPException
from pydantic import BaseModel

DATABASE_URL = os.environ.get("DATABASE_URL", "postgresql://items@db:5432/items")
COLUMNS = "id, name, quantity, created_at"

app = FastAPI(title="items")


class QuietHealthchecks(logging.Filter):
    """Keeps the healthcheck's GET /health (every 500 ms) out of the access log."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "/health" not in record.getMessage()


logging.getLogger("uvicorn.access").addFilter(QuietHealthchecks())


class ItemIn(BaseModel):
    """The body of POST /items."""

    name: str
    quantity: int = 1


def connect() -> psycopg.Connection:
    """A new connection (the app is small: no pool)."""
    return psycopg.connect(DATABASE_URL, connect_timeout=3)


def as_item(row: tuple[Any, ...]) -> dict[str, Any]:
    """A database row as the JSON the API returns."""
    item_id, name, quantity, created_at = row
    return {"id": item_id, "name": name, "quantity": quantity, "created_at": created_at.isoformat()}


@app.get("/health")
def health() -> dict[str, str]:
    """200 when the database answers, 503 otherwise."""
    try:
        with connect() as conn:
            conn.execute("SELECT 1")
    except psycopg.OperationalError as exc:
        raise HTTPException(status_code=503, detail=f"database unavailable: {exc}") from exc
    return {"status": "ok"}


@app.post("/items", status_code=201)
def create_item(item: ItemIn) -> dict[str, Any]:
    """Store one item and return it with its id."""
    with connect() as conn:
        row = conn.execute(
            f"INSERT INTO items (name, quantity) VALUES (%s, %s) RETURNING {COLUMNS}",
            (item.name, item.quantity),
        ).fetchone()
    return as_item(row)


@app.get("/items")
def list_items() -> list[dict[str, Any]]:
    """Every stored item, oldest first."""
    with connect() as conn:
        rows = conn.execute(f"SELECT {COLUMNS} FROM items ORDER BY id").fetchall()
    return [as_item(row) for row in rows]
