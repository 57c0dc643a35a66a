"""codesign: co-design the outcomes an NHS contract pays on."""

import os

# One BLAS thread, set before NumPy is first imported. The counting's matrix products are small
# (80 x 5,000 per group and rating level), and a BLAS that spins two threads on a 2-core machine
# already busy with web workers took 2-3 s per group instead of 0.01-0.1 s (measured: the count of
# a 20,000-person round). A deployment may still set these itself.
for _name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_name, "1")

__version__ = "0.1.0"
