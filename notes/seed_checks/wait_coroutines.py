# Shows: a coroutine is not a Task. Seed 004 calls every Future and Task a
# "coroutine" and describes asyncio.wait() as waiting for "a list of coroutines";
# a coroutine object runs only when awaited or wrapped in a Task, and since
# Python 3.11 asyncio.wait() refuses bare coroutines (TypeError).
# Standalone, no server:   python3 notes/seed_checks/wait_coroutines.py
# (notes/08_toolkit.md, "What the seed gets wrong")
import asyncio
import warnings

warnings.simplefilter("ignore", RuntimeWarning)  # "coroutine 'page' was never awaited": the point


async def page():
    await asyncio.sleep(0)


async def main():
    try:
        await asyncio.wait([page()])
        print("asyncio.wait([coroutine]): accepted")
    except TypeError as e:
        print("asyncio.wait([coroutine]): TypeError:", e)
    done, pending = await asyncio.wait([asyncio.create_task(page())])
    print(f"asyncio.wait([create_task(coroutine)]): {len(done)} done, {len(pending)} pending")


asyncio.run(main())
