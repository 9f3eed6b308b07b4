"""Drives PyPI mem0ai's MemoryClient against `engram serve`, as an application would after
changing only `host` and the API key. Prints one JSON line per step: {"step", "ok", "error"?}.

    python mem0_platform_client.py <host> <key of project A> <key of project B>
"""
import json
import logging
import os
import sys
import time
import traceback

os.environ.setdefault("MEM0_TELEMETRY", "false")
logging.disable(logging.CRITICAL)

from mem0 import MemoryClient  # noqa: E402
from mem0.exceptions import MemoryError as Mem0Error  # noqa: E402
from mem0.exceptions import MemoryNotFoundError, ValidationError  # noqa: E402

host, key, other_key = sys.argv[1:4]
out = sys.stdout
sys.stdout = sys.stderr
state = {}


def check(condition, message):
    if not condition:
        raise AssertionError(message)


def step(name):
    def run(function):
        try:
            function()
            out.write(json.dumps({"step": name, "ok": True}) + "\n")
        except Exception as error:  # noqa: BLE001
            detail = f"{type(error).__name__}: {error}\n{traceback.format_exc(limit=3)}"
            out.write(json.dumps({"step": name, "ok": False, "error": detail}) + "\n")
        out.flush()
        return function

    return run


@step("ping")
def ping():
    state["client"] = MemoryClient(api_key=key, host=host)
    check(state["client"].project_id is not None, "ping gave no project_id")


client = state.get("client")


@step("add without inference")
def add_sync():
    answer = client.add(
        [{"role": "user", "content": "I am vegetarian and allergic to peanuts"}],
        user_id="py-alice",
        metadata={"topic": "food"},
        infer=False,
    )
    results = answer["results"]
    check(answer["status"] == "SUCCEEDED", f"status {answer['status']}")
    check(results[0]["event"] == "ADD", f"event {results[0]}")
    state["food"] = results[0]["id"]
    answer = client.add(
        "I go hiking in the Alps every summer",
        filters={"user_id": "py-alice"},
        metadata={"topic": "sport"},
        infer=False,
    )
    state["sport"] = answer["results"][0]["id"]


@step("add queued, then its event polled")
def add_async():
    answer = client.add("My sister lives in Lisbon", user_id="py-alice", metadata={"topic": "family"})
    check(answer["status"] == "PENDING", f"status {answer}")
    event_id = answer["event_id"]
    deadline = time.time() + 30
    while True:
        event = client.client.get(f"/v1/event/{event_id}/").json()
        if event["status"] in ("SUCCEEDED", "FAILED") or time.time() > deadline:
            break
        time.sleep(0.2)
    check(event["status"] == "SUCCEEDED", f"event {event}")
    check(event["results"][0]["data"]["memory"] == "Fact: My sister lives in Lisbon", f"event {event}")
    state["family"] = event["results"][0]["id"]


@step("search with filters")
def search():
    answer = client.search(
        "what does she eat?",
        filters={"AND": [{"user_id": "py-alice"}, {"metadata": {"topic": "food"}}]},
        top_k=5,
    )
    ids = [item["id"] for item in answer["results"]]
    check(ids == [state["food"]], f"results {answer['results']}")
    check(answer["results"][0]["user_id"] == "py-alice", "user_id missing")
    answer = client.search(
        "outdoors",
        filters={"user_id": "py-alice", "OR": [{"metadata": {"topic": "sport"}}, {"topic": "family"}]},
    )
    check(
        sorted(item["id"] for item in answer["results"]) == sorted([state["sport"], state["family"]]),
        f"results {answer['results']}",
    )


@step("unsupported filter operator is a 400 naming it")
def unsupported_filter():
    try:
        client.search("food", filters={"user_id": "py-alice", "metadata": {"topic": {"icontains": "f"}}})
    except ValidationError as error:
        check("icontains" in str(error), f"message {error}")
        return
    raise AssertionError("no error")


@step("list page by page")
def get_all():
    first = client.get_all(filters={"user_id": "py-alice"}, page=1, page_size=2)
    check(first["count"] == 3, f"count {first['count']}")
    check(len(first["results"]) == 2 and first["next"] is not None, f"page {first}")
    second = client.get_all(filters={"user_id": "py-alice"}, page=2, page_size=2)
    check(len(second["results"]) == 1 and second["next"] is None, f"page {second}")
    ids = {item["id"] for item in first["results"] + second["results"]}
    check(ids == {state["food"], state["sport"], state["family"]}, f"ids {ids}")


@step("get, update and history")
def get_update_history():
    memory = client.get(state["food"])
    check(memory["memory"] == "I am vegetarian and allergic to peanuts", f"memory {memory}")
    check(memory["metadata"] == {"topic": "food"}, f"metadata {memory}")
    updated = client.update(state["food"], text="Vegan, allergic to peanuts", metadata={"checked": True})
    check(updated["memory"] == "Vegan, allergic to peanuts", f"updated {updated}")
    check(updated["metadata"] == {"topic": "food", "checked": True}, f"metadata {updated}")
    events = client.history(state["food"])
    check([event["event"] for event in events] == ["ADD", "UPDATE"], f"history {events}")
    check(events[1]["old_memory"] == "I am vegetarian and allergic to peanuts", f"history {events}")


@step("another project's key sees nothing")
def tenancy():
    other = MemoryClient(api_key=other_key, host=host)
    try:
        other.get(state["food"])
    except MemoryNotFoundError:
        pass
    else:
        raise AssertionError("project B read project A's memory")
    answer = other.search("peanuts", filters={"user_id": "py-alice"})
    check(answer["results"] == [], f"results {answer}")


@step("batch update and batch delete")
def batch():
    client.batch_update([{"memory_id": state["sport"], "text": "Hikes in the Alps"}])
    check(client.get(state["sport"])["memory"] == "Hikes in the Alps", "not updated")
    client.batch_delete([{"memory_id": state["sport"]}])
    try:
        client.get(state["sport"])
    except MemoryNotFoundError:
        return
    raise AssertionError("still there")


@step("delete one, then delete all")
def delete():
    client.delete(state["food"])
    client.add("one more", user_id="py-alice", infer=False)
    client.delete_all(user_id="py-alice")
    check(client.get_all(filters={"user_id": "py-alice"})["count"] == 0, "memories left")


@step("a platform route Engram lacks answers 501 naming it")
def not_implemented():
    try:
        client.get_summary(filters={"user_id": "py-alice"})
    except Mem0Error as error:
        check("/v1/summary/" in str(error), f"message {error}")
        check(error.error_code == "HTTP_501", f"code {error.error_code}")
        return
    raise AssertionError("no error")
