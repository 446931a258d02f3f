# Shows: the gap between seed 002's process_way() (0.6 s) and thread_way()
# (0.43 s), which it blames on process switching, is the pool's start-up. Both
# pools fetch 10 pages from a 00_server with --delay-ms 300, timed as the seed
# times them (creating and shutting down the pool included), and again with every
# worker started beforehand, so that only the fetching is timed.
#   build/stages/00_server/00_server --port 8080 --delay-ms 300   (one terminal)
#   python3 notes/seed_checks/pool_gap.py 8080                     (another; ~40 s)
# (notes/02_process_pool.md, "What the seed gets wrong")
import multiprocessing, socket, sys, time
from concurrent import futures

PORT = int(sys.argv[1]) if len(sys.argv) > 1 else 8080

def blocking_way(i=0):
    sock = socket.socket()
    sock.connect(("127.0.0.1", PORT))
    sock.sendall(f"GET /{i} HTTP/1.0\r\nHost: localhost\r\n\r\n".encode("ascii"))
    response = b""
    chunk = sock.recv(4096)
    while chunk:
        response += chunk
        chunk = sock.recv(4096)
    return response

def nap(seconds):
    time.sleep(seconds)

def one_run(make_pool):
    t0 = time.perf_counter()
    with make_pool() as executor:
        futs = [executor.submit(blocking_way, i) for i in range(10)]
        pages = len([f.result() for f in futs])
    seed_style = time.perf_counter() - t0
    with make_pool() as executor:
        list(executor.map(nap, [0.2] * 10))        # all ten workers exist from here on
        t1 = time.perf_counter()
        futs = [executor.submit(blocking_way, i) for i in range(10)]
        pages += len([f.result() for f in futs])
        warm = time.perf_counter() - t1
    return pages, seed_style, warm

if __name__ == "__main__":
    pools = {
        "thread_way": lambda: futures.ThreadPoolExecutor(10),
        "process_way, fork": lambda: futures.ProcessPoolExecutor(
            10, mp_context=multiprocessing.get_context("fork")),
        "process_way, spawn": lambda: futures.ProcessPoolExecutor(
            10, mp_context=multiprocessing.get_context("spawn")),
    }
    print(f"Python {sys.version.split()[0]}, 10 pages x 300 ms, median of 3 runs:")
    print(f"  {'':20s} {'as the seed times it':>22s} {'workers started first':>22s}")
    for name, make in pools.items():
        runs = [one_run(make) for _ in range(3)]
        seed_style = sorted(r[1] for r in runs)[1]
        warm = sorted(r[2] for r in runs)[1]
        assert all(r[0] == 20 for r in runs)
        print(f"  {name:20s} {seed_style:20.3f} s {warm:20.3f} s")
