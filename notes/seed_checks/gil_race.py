# The GIL makes one bytecode step atomic, not a check-then-act (notes/03_thread_pool.md).
# Four threads sell tickets while any are left: check the stock, note the sale, take
# one. The stock must end at 0; below 0 means a ticket was sold twice.
#   python3 notes/seed_checks/gil_race.py
import sys
import threading

sys.setswitchinterval(1e-6)  # hand the GIL over every 1 us instead of 5 ms: the race shows sooner


def note(sale):  # any Python call between the check and the act
    return sale


def one_run():
    stock = {"left": 200_000}

    def sell():
        while True:
            if stock["left"] > 0:      # check ...
                note(stock["left"])
                stock["left"] -= 1     # ... then act: another thread may have run in between
            else:
                return

    threads = [threading.Thread(target=sell) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return stock["left"]


left = [one_run() for _ in range(5)]
print(f"Python {sys.version.split()[0]}: 4 threads sold 200000 tickets, 5 times; "
      f"stock left: {left} (below 0 in {sum(n < 0 for n in left)} of 5 runs)")
