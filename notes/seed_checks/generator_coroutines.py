# Shows: three things seed 002 (4.5.1, 4.5.4) says about generator-based
# coroutines, checked against the Python that runs this:
# - "@asyncio.coroutine marks a yield-from coroutine": removed in Python 3.11
#   (seed 003 says 3.10, the version its removal was first planned for);
# - "async/await and yield-from coroutines are compatible": `await` of a plain
#   yield-from generator is a TypeError;
# - "g.throw(StopIteration) ends subgen()": since Python 3.7 (PEP 479) a
#   StopIteration that escapes a generator becomes a RuntimeError.
# Standalone, no server:   python3 notes/seed_checks/generator_coroutines.py
# (notes/06_generators.md, "What the seed gets wrong")
import asyncio
import sys

print("Python", sys.version.split()[0])

# 4.5.4: "@asyncio.coroutine marks a yield-from coroutine (optional)".
print("asyncio.coroutine exists:", hasattr(asyncio, "coroutine"))


# 4.5.4: "async/await and yield-from coroutines share one implementation and mix freely".
def old_style():
    yield from asyncio.sleep(0)


async def main():
    try:
        await old_style()
        print("await of a yield-from generator: works")
    except TypeError as e:
        print("await of a yield-from generator: TypeError:", e)


asyncio.run(main())


# 4.5.1: "g.throw(StopIteration) throws into gen() to end subgen()".
def subgen():
    while True:
        x = yield
        yield x + 1


def gen():
    yield from subgen()


g = gen()
next(g)
print("g.send(1) ->", g.send(1))
try:
    g.throw(StopIteration)
except Exception as e:
    print("g.throw(StopIteration) ->", type(e).__name__ + ":", e)
