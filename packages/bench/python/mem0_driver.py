"""Drives PyPI mem0ai for the Engram benchmarks: one JSON request per stdin line, one JSON
answer per stdout line, with the wall time of the call measured here (process start-up and the
pipe are not counted)."""
import hashlib
import json
import logging
import os
import sys
import time
import uuid

os.environ.setdefault("MEM0_TELEMETRY", "false")
logging.disable(logging.WARNING)

from mem0 import Memory  # noqa: E402

memory = None
out = sys.stdout
sys.stdout = sys.stderr  # keep library prints off the protocol channel


def answer(payload):
    out.write(json.dumps(payload) + "\n")
    out.flush()


def init(request):
    global memory
    directory = request["directory"]
    url = request["url"]
    dimensions = request["dimensions"]
    memory = Memory.from_config(
        {
            "llm": {
                "provider": "openai",
                "config": {"model": "gpt-4.1-mini", "api_key": "bench", "openai_base_url": url},
            },
            "embedder": {
                "provider": "openai",
                "config": {
                    "model": "text-embedding-3-small",
                    "api_key": "bench",
                    "openai_base_url": url,
                    "embedding_dims": dimensions,
                },
            },
            "vector_store": {
                "provider": "qdrant",
                "config": {
                    "collection_name": "bench",
                    "embedding_model_dims": dimensions,
                    "path": os.path.join(directory, "qdrant"),
                },
            },
            "history_db_path": os.path.join(directory, "history.db"),
        }
    )
    return {"vector_store": type(memory.vector_store).__name__}


def preload(request):
    now = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime())
    items = request["items"]
    memory.vector_store.insert(
        vectors=[item["vector"] for item in items],
        payloads=[
            {
                "data": item["text"],
                "hash": hashlib.md5(item["text"].encode()).hexdigest(),
                "user_id": item["userId"],
                "created_at": now,
            }
            for item in items
        ],
        ids=[str(uuid.uuid4()) for _ in items],
    )
    return {"count": len(items)}


def add(request):
    result = memory.add(request["messages"], user_id=request["userId"])
    return {"results": len(result.get("results", []))}


def search(request):
    result = memory.search(
        request["query"], filters={"user_id": request["userId"]}, top_k=request.get("limit", 10)
    )
    return {"results": len(result.get("results", []))}


handlers = {"init": init, "preload": preload, "add": add, "search": search}

for line in sys.stdin:
    request = json.loads(line)
    if request["op"] == "close":
        answer({"ok": True})
        break
    start = time.perf_counter()
    try:
        payload = handlers[request["op"]](request)
        answer({"ok": True, "ms": (time.perf_counter() - start) * 1000, **payload})
    except Exception as error:  # report, keep serving
        answer({"ok": False, "error": f"{type(error).__name__}: {error}"})
