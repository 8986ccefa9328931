"""The BLAS that PyTorch's baselines run on, reported by every *_torch_bench.py (issue 19: a bench that does not check
the OpenBLAS core can measure PyTorch's misconfiguration instead of ToxScope). The TypeScript side, which chooses
OPENBLAS_CORETYPE, is torch-baseline.ts.
"""
import ctypes


def blas_info():
    """The OpenBLAS core and build PyTorch's BLAS calls run on (libblas.so.3 is OpenBLAS through Debian's alternatives)."""
    for name in ("libopenblas.so.0", "libblas.so.3"):
        try:
            lib = ctypes.CDLL(name)
            lib.openblas_get_corename.restype = ctypes.c_char_p
            lib.openblas_get_config.restype = ctypes.c_char_p
            return {"blasCore": lib.openblas_get_corename().decode(), "blasConfig": lib.openblas_get_config().decode(),
                    "blasThreads": lib.openblas_get_num_threads()}
        except (OSError, AttributeError):
            continue
    return {"blasCore": "unknown (not OpenBLAS)", "blasConfig": "", "blasThreads": 0}
