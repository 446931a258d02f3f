# Shows: seed 003 says that after executor.shutdown(wait=False), future.done()
# raises an exception. It does not: shutdown(wait=False) only returns without
# waiting; the job runs on, done() says whether it has finished yet, and
# result() waits for it.
# Standalone, no server:   python3 notes/seed_checks/shutdown_nowait.py
# Prints done() -> False, then result() -> None and done() -> True.
# (notes/09_executors.md, "What the seed gets wrong")
import time
from concurrent.futures import ThreadPoolExecutor

pool = ThreadPoolExecutor(2)
future = pool.submit(time.sleep, 0.5)
pool.shutdown(wait=False)
print("right after shutdown(wait=False): future.done() ->", future.done())
print("future.result() waits for it ->", future.result(), "; then future.done() ->", future.done())
