# Shows: seed 002's blocking_way() sets no timeout, and Python's sockets have
# none by default (socket.getdefaulttimeout() is None), so against a server that
# accepts and never answers its recv() just waits; 00_server --fault stall gives
# up after 10 minutes, a real server may never. Stop it with Ctrl-C.
#   build/stages/00_server/00_server --port 8080 --fault stall    (one terminal)
#   timeout 10 python3 notes/seed_checks/no_timeout.py 8080       (another)
# (notes/01_blocking.md, "What the seed gets wrong")
import socket, sys
print("socket.getdefaulttimeout():", socket.getdefaulttimeout(), flush=True)
sock = socket.socket()
sock.connect(("127.0.0.1", int(sys.argv[1])))
sock.send(b"GET /0 HTTP/1.0\r\nHost: localhost\r\n\r\n")
print("sent; waiting in recv() ...", flush=True)
print(sock.recv(4096))
