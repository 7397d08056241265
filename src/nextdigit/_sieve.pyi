"""Type stub for the private segmented-sieve kernel (see csrc/nextdigit/_sieve.pyx)."""
import numpy as np
import numpy.typing as npt

DEFAULT_SEG_BYTES: int
DEFAULT_CHUNK_BYTES: int
DEFAULT_SMALL_MAX: int
DEFAULT_MED_MAX: int

def run(
    consume: int,
    piece_lo: npt.NDArray[np.uint64],
    piece_hi: npt.NDArray[np.uint64],
    primes: npt.NDArray[np.uint32],
    *,
    confirm: bool = ...,
    confirm_above: int = ...,
    threads: int = ...,
    seg_bytes: int = ...,
    chunk_bytes: int = ...,
    small_max: int = ...,
    med_max: int = ...,
    h_a: int = ...,
    h_w: int = ...,
    h_out: npt.NDArray[np.uint64] | None = ...,
) -> int | npt.NDArray[np.uint64] | npt.NDArray[np.uint32] | None:
    """consume: 0 count -> int; 1 list -> uint64 array; 2 list -> uint32 array;
    3 histogram -> None (adds into h_out).  Pieces are inclusive [lo, hi] ranges."""
    ...
