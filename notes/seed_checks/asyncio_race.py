# Shows: asyncio code can race across an await. Seeds 000 and 003 say asyncio
# tasks cannot race because nothing interrupts them; nothing does *between* two
# awaits, but at an await every other task may run. Two withdrawals of 100 from
# 150, each a check, an await, then an act: both pass the check.
# Standalone, no server:   python3 notes/seed_checks/asyncio_race.py
# Prints -50 without a lock, 50 with an asyncio.Lock around check and act.
# (notes/07_coroutines.md and notes/08_toolkit.md, "What the seed gets wrong";
# 08's `--demo race` is the same race in C++)
import asyncio

balance = 150


async def withdraw(amount):
    global balance
    if balance >= amount:          # check ...
        await asyncio.sleep(0)     # any await: a page fetch, a database call
        balance -= amount          # ... then act, on a balance another task has changed


async def withdraw_locked(lock, amount):
    global balance
    async with lock:               # check and act under one asyncio.Lock
        if balance >= amount:
            await asyncio.sleep(0)
            balance -= amount


async def main():
    global balance
    await asyncio.gather(withdraw(100), withdraw(100))
    print("two withdrawals of 100 from 150, no lock:", balance)
    balance = 150
    lock = asyncio.Lock()
    await asyncio.gather(withdraw_locked(lock, 100), withdraw_locked(lock, 100))
    print("the same with an asyncio.Lock:", balance)


asyncio.run(main())
