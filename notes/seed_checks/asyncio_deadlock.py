# Shows: one thread and no preemption do not rule out a deadlock. Seed 003 says
# asyncio avoids the races, deadlocks and starvation of threads; here a coroutine
# takes an asyncio.Lock its own caller already holds (asyncio.Lock is not
# reentrant) and waits for ever; wait_for() gives up after 1 s to show it.
# Standalone, no server:   python3 notes/seed_checks/asyncio_deadlock.py
# Prints: save_page() still waits for its own lock after 1 s: a deadlock
# (notes/08_toolkit.md, "What the seed gets wrong")
import asyncio


async def main():
    lock = asyncio.Lock()

    async def save_page():
        async with lock:
            await update_index()

    async def update_index():
        async with lock:  # the lock our own caller holds
            pass

    try:
        await asyncio.wait_for(save_page(), timeout=1)
        print("no deadlock")
    except asyncio.TimeoutError:  # the builtin TimeoutError since Python 3.11
        print("save_page() still waits for its own lock after 1 s: a deadlock")


asyncio.run(main())
