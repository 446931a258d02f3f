# Shows: seed 003 calls time.sleep() "a CPU-bound operation". It sleeps in the
# kernel and uses no CPU (process_time() hardly moves); summing squares is what
# CPU-bound looks like (process time close to wall time on an idle core).
# Standalone, no server:   python3 notes/seed_checks/sleep_cpu.py
# (notes/09_executors.md, "What the seed gets wrong")
import time

c0, w0 = time.process_time(), time.perf_counter()
time.sleep(1)
print(f"time.sleep(1):               wall {time.perf_counter() - w0:.3f} s, cpu {time.process_time() - c0:.4f} s")
c0, w0 = time.process_time(), time.perf_counter()
sum(i * i for i in range(10**7))
print(f"sum of squares up to 10**7:  wall {time.perf_counter() - w0:.3f} s, cpu {time.process_time() - c0:.4f} s")
