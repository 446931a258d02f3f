# Shows: seed 002's Future (and 06's, which copies it) runs its callbacks inside
# set_result(); asyncio's Future schedules them on the loop (call_soon), so a
# callback never runs inside the code that completed the future.
# Standalone, no server:   python3 notes/seed_checks/future_callbacks.py
# Prints False right after set_result(), True after one turn of the loop.
# (notes/06_generators.md, "What the seed gets wrong")
import asyncio


async def main():
    f = asyncio.get_running_loop().create_future()
    ran = []
    f.add_done_callback(lambda fut: ran.append(fut.result()))
    f.set_result("page")
    print("right after set_result(): has the callback run?", bool(ran))
    await asyncio.sleep(0)
    print("after one turn of the loop:", bool(ran))


asyncio.run(main())
