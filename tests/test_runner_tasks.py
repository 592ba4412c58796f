"""The runner keeps every running journey's task alive until it finishes."""

from helpers import clean_env, collected, of_type, run_mite, write_module

# The journey awaits a future that nothing but its own task references (the resolving callback
# holds it weakly), then forces a cycle collection: asyncio keeps only weak references to tasks,
# so unless the runner holds the task, the collector destroys it and the journey never ends.
JOURNEY = """
    import asyncio
    import gc
    import weakref

    async def journey(ctx):
        loop = asyncio.get_running_loop()
        fut = loop.create_future()
        ref = weakref.ref(fut)

        def resolve():
            f = ref()
            if f is not None and not f.done():
                f.set_result("resolved")

        loop.call_later(0.3, resolve)
        loop.call_later(0.1, gc.collect)
        ctx.send("journey_result", result=await fut)
"""


def test_a_journey_waiting_on_an_otherwise_unreferenced_future_survives_gc(tmp_path):
    write_module(tmp_path, "gc_journey", JOURNEY)
    proc = run_mite(["journey", "run", "gc_journey:journey"], tmp_path, clean_env(), 60)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "destroyed but it is pending" not in proc.stderr
    results = [m["result"] for m in of_type(collected(tmp_path), "journey_result")]
    assert results and set(results) == {"resolved"}
