"""Type stub for the private SHA-256 kernel (see csrc/nextdigit/_sha256.pyx)."""
import numpy as np
import numpy.typing as npt

K_WORDS: tuple[int, ...]
H0_WORDS: tuple[int, ...]

def digests(start: int, out: npt.NDArray[np.uint32], threads: int = ...) -> None:
    """out[i, w] = word w of SHA-256((start + i).to_bytes(8, 'little')); out has shape (n, 8)."""
    ...
def count_next(start: int, n: int, mask: npt.NDArray[np.uint32], value: npt.NDArray[np.uint32],
               next_word: int, next_shift: int, threads: int = ...) -> tuple[int, int]:
    """(consistent, ones): objects in [start, start + n) with H & mask == value in all 8 words,
    and how many of them have bit next_shift of word next_word set (next_word = -1: 0)."""
    ...
def answer_codes(start: int, words: npt.NDArray[np.intc], shifts: npt.NDArray[np.intc],
                 out: npt.NDArray[np.uint64], threads: int = ...) -> None:
    """out[i] = the k <= 64 bits (H[words[j]] >> shifts[j]) & 1 of object start + i, first most significant."""
    ...
def bit_planes(out: npt.NDArray[np.uint64], threads: int = ...) -> None:
    """out[i, c] bit t = digest bit i of object 64 * c + t; out has shape (256, words)."""
    ...
