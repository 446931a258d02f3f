// The timeouts of the sockets that fibers made, kept by the patch and not by
// the kernel, as gevent keeps a socket's timeout in Python. 01's code sets
// SO_RCVTIMEO and SO_SNDTIMEO before every call: two system calls for a kernel
// that, on a fiber, is never asked to wait (the patched calls don't let it), and
// the patch then asked the kernel for them again (getsockopt).
#pragma once

namespace ladder::green {

// Before a call that the kernel may make wait (off a fiber): tell it the
// timeouts that were kept from it.
void tell_the_kernel(int fd);

} // namespace ladder::green
